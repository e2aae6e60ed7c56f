"""The Docker image, built and run for real without a Docker engine: Debian's podman builds the
Dockerfile (chroot isolation, a debootstrapped local base), its filesystem is exported and each
role runs in it with `chroot --userspec=10001:10001` and the image's own environment and
entrypoint, on 127.0.0.1; both roles answer /info/, blur a photo, run as the non-root user and
find their models offline (no network is needed once built).

What it cannot prove: Docker's own runtime (namespaces, cgroups, `docker run -p`, the
HEALTHCHECK scheduler); those need an engine. Skipped where podman, debootstrap or root is
missing (`.ci/run` installs the packages). The base is cached in IMAGE_CACHE between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.procutil import free_port
from bench.synthetic import encode, scene_with_plate
from blur_sdk import PROJECT_ROOT

pytestmark = [pytest.mark.process, pytest.mark.image, pytest.mark.timeout(2400)]

IMAGE_CACHE = Path(os.environ.get("BLUR_SDK_IMAGE_CACHE", "/var/tmp/blur-sdk-image"))
BASE, IMAGE = "localhost/blur-sdk-base:bookworm", "localhost/blur-sdk:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _run(*cmd: str, timeout: float = 900, **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # type: ignore[call-overload]
        cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw
    )
    assert result.returncode == 0, (
        f"{' '.join(cmd)}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    )
    return result  # type: ignore[no-any-return]


def _base() -> None:
    """A Debian bookworm minbase with Python 3.11, imported as the build's PYTHON_IMAGE."""
    if subprocess.run(["podman", "image", "exists", BASE], check=False).returncode == 0:
        return
    rootfs = IMAGE_CACHE / "base"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.mkdir(parents=True)
    _run("debootstrap", "--variant=minbase",
         "--include=python3,python3-venv,python-is-python3,ca-certificates", "bookworm",
         str(rootfs), "http://deb.debian.org/debian")  # fmt: skip
    if CA_BUNDLE.exists():  # these machines reach PyPI through a TLS proxy
        shutil.copy(CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    _run("podman", "import", "-", BASE, stdin=tar.stdout)
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)


@pytest.fixture(scope="module")
def rootfs() -> Iterator[tuple[Path, dict[str, str]]]:
    """The built image's filesystem (proc, dev, /dev/shm mounted) and its environment."""
    missing = [t for t in ("podman", "debootstrap", "chroot", "mount") if not shutil.which(t)]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and {', '.join(missing) or 'nothing else'}: .ci/run installs "
                    "podman and debootstrap")  # fmt: skip
    _base()
    _run("podman", "build", "--isolation", "chroot", "--network", "host", "--build-arg",
         f"PYTHON_IMAGE={BASE}", "-t", IMAGE, str(PROJECT_ROOT), timeout=1500)  # fmt: skip
    config = json.loads(_run("podman", "inspect", IMAGE).stdout)[0]["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == "10001:10001" and config["Entrypoint"][-1].endswith("entrypoint.sh")
    root = IMAGE_CACHE / "run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    container = _run("podman", "create", IMAGE).stdout.strip()
    export = subprocess.Popen(["podman", "export", container], stdout=subprocess.PIPE)
    _run("tar", "-C", str(root), "-x", stdin=export.stdout)
    export.wait()
    _run("podman", "rm", container)
    mounts = [("proc", "proc", ["-t", "proc"]), ("/dev", "dev", ["--bind"]),
              ("tmpfs", "dev/shm", ["-t", "tmpfs", "-o", "mode=1777"])]  # fmt: skip
    for source, target, options in mounts:
        _run("mount", *options, source, str(root / target))
    try:
        yield root, env
    finally:
        for _, target, _ in reversed(mounts):
            subprocess.run(["umount", "-l", str(root / target)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _start(root: Path, env: dict[str, str], role: str, port: int) -> subprocess.Popen[bytes]:
    """The image's entrypoint with its CMD replaced by `role`, as the image's user."""
    environment = {**env, "BIND": f"127.0.0.1:{port}", "WARM_UP": "", "HOME": "/home/blur"}
    if role == "blur":
        environment["SDK_URL"] = ""
    cmd = ["chroot", "--userspec=10001:10001", str(root), "/bin/sh", "/app/docker/entrypoint.sh"]
    log = (root / "tmp" / f"{role}.log").open("wb")  # a file: a pipe nobody reads would fill
    return subprocess.Popen([*cmd, role], env=environment, cwd="/", stdout=log, stderr=log)


def _wait(
    url: str, process: subprocess.Popen[bytes], log_files: list[Path], timeout: float = 120
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = "\n".join(p.read_text(errors="replace")[-3000:] for p in log_files)
            raise AssertionError(f"the role exited with {process.returncode}:\n{output}")
        try:
            info: dict[str, object] = requests.get(url + "/info/", timeout=2).json()
            return info
        except requests.RequestException:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.mark.parametrize("role", ["blur", "snapshot"])
def test_each_role_runs_from_the_image_as_its_non_root_user(
    rootfs: tuple[Path, dict[str, str]], role: str
) -> None:
    root, env = rootfs
    port = free_port()
    process = _start(root, env, role, port)
    try:
        url = f"http://127.0.0.1:{port}"
        info = _wait(url, process, [root / "tmp" / f"{role}.log"])
        assert info["version"]
        photo = encode(scene_with_plate(), "JPEG")
        path, fields = ("/", {"faces": "10", "plates": "10"}) if role == "blur" else (
            "/v1/plate-reader/", {})  # fmt: skip
        answer = requests.post(url + path, files={"upload": ("car.jpg", photo)}, data=fields,
                               timeout=120)  # fmt: skip
        assert answer.status_code in (200, 201), answer.text[:500]
        assert answer.json()["results" if role == "snapshot" else "plates"]
        users = {int(line.split()[0]) for line in _run(
            "ps", "-o", "uid=", "--ppid", str(process.pid), "--pid", str(process.pid)
        ).stdout.split("\n") if line.strip()}  # fmt: skip
        assert users == {10001}
    finally:
        process.terminate()
        process.wait(40)
