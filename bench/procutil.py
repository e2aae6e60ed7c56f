"""Start real server processes on 127.0.0.1 (tests, benchmarks), wait until they answer, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A started server process: its URL, its combined output (in a file), and stop()."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def output(self, tail: int = 4000) -> str:
        """The last characters the process wrote to stdout and stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait, then SIGKILL if it would not stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log_path.unlink(missing_ok=True)
        return int(self.process.returncode)


def start_server(
    cmd: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    ready_path: str = "/info/",
    timeout: float = 120.0,
    cwd: Path = PROJECT_ROOT,
) -> Server:
    """Start cmd (env added to ours) and wait until GET ready_path answers; raise if it cannot.

    Any HTTP answer counts as ready (a 401 from an auth-protected /info/ too). The process is
    stopped, and its output shown, when it exits early or is not ready within `timeout`.
    """
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle, name = tempfile.mkstemp(prefix="server-", suffix=".log")
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            list(cmd), cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", Path(name))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = server.output()
            server.stop()
            raise RuntimeError(f"{cmd[0]} exited with {process.returncode}:\n{output}")
        try:
            requests.get(server.url + ready_path, timeout=2.0)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        return server
    output = server.output()
    server.stop()
    raise RuntimeError(
        f"{' '.join(cmd)} did not answer on port {port} in {timeout:.0f}s:\n{output}"
    )


@contextmanager
def running_server(
    cmd: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    ready_path: str = "/info/",
    timeout: float = 120.0,
) -> Iterator[Server]:
    """start_server as a context manager: the process is always stopped afterwards."""
    server = start_server(cmd, port, env, ready_path=ready_path, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


def run_cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m blur_sdk ARGS` with a minimal environment plus env_extra; output captured."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "blur_sdk", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM summed over pid and its descendants (gunicorn master + workers), MiB."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):  # ended meanwhile
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    totals = {"VmRSS": 0, "VmHWM": 0}
    for member in tree:
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key = line.split(":", 1)[0]
            if key in totals:
                totals[key] += int(line.split()[1])
    return {"rss_mb": round(totals["VmRSS"] / 1024, 1), "hwm_mb": round(totals["VmHWM"] / 1024, 1)}
