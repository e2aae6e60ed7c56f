"""The blur command posting to Blur servers (the real app over a FakeEngine, in threads)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from werkzeug.serving import make_server

from bench.procutil import free_port
from blur_sdk.__main__ import main as blur_sdk_main
from blur_sdk.cli import main
from blur_sdk.settings import Settings
from tests.cli.conftest import write_tree
from tests.clients import app_of

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Counting:
    """WSGI middleware: counts requests, and answers 503 (Retry-After: 0) to the first `busy`."""

    def __init__(self, app: WSGI, busy: int = 0) -> None:
        self.app, self.busy, self.calls = app, busy, 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        with self.lock:
            self.calls += 1
            refuse = self.calls <= self.busy
        if refuse:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start("503 Service Unavailable", [("Retry-After", "0")])
            return [b'{"error": "busy"}']
        return self.app(environ, start)


@contextmanager
def blur_servers(settings: Settings, count: int = 1, busy: int = 0) -> Iterator[list[Any]]:
    """`count` Blur apps (FakeEngine) served on 127.0.0.1 in threads: (url, Counting) pairs."""
    started = []
    for _ in range(count):
        counting = Counting(app_of("blur", settings).wsgi_app, busy)
        server = make_server("127.0.0.1", 0, counting, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread, f"http://127.0.0.1:{server.server_port}", counting))
    try:
        yield [(url, counting) for _, _, url, counting in started]
    finally:
        for server, thread, _, _ in started:
            server.shutdown()
            thread.join(5)


def report(out: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    return {Path(line["image"]).name: line for line in lines}


def test_a_farm_of_two_servers(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "in", count=5)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    with blur_servers(settings, count=2) as servers:
        urls = [arg for url, _ in servers for arg in ("--server", url)]
        code = main([str(tmp_path / "in"), "--out", str(out), *urls, "--workers", "2"])
        assert all(counting.calls >= 1 for _, counting in servers)  # both took images
        assert sum(counting.calls for _, counting in servers) == 6
    assert code == 1
    lines = report(out)
    assert set(lines) == {"a.jpg", "b.png", "c.webp", "scene-0.jpg", "scene-1.jpg", "broken.png"}
    scene = lines["a.jpg"]
    assert (scene["width"], scene["height"]) == (512, 512)
    assert scene["plates"][0]["text"] == "ka482mx" and len(scene["faces"]) == 1
    assert Image.open(out / "a.jpg").format == "JPEG"
    assert Image.open(out / "sub" / "deeper" / "c.webp").format == "WEBP"
    assert lines["broken.png"]["error"].startswith("http://127.0.0.1:")
    assert "HTTP 400: upload: image is corrupt" in lines["broken.png"]["error"]
    summary = capsys.readouterr().out
    assert "5 done, 1 failed" in summary and "broken.png: http://" in summary


def test_fields_reach_the_server_and_format_is_converted(
    settings: Settings, tmp_path: Path
) -> None:
    write_tree(tmp_path / "in", count=1)
    out = tmp_path / "out"
    with blur_servers(settings) as [(url, _)]:
        args = [str(tmp_path / "in"), "--out", str(out), "--server", url]
        code = blur_sdk_main(["blur", *args, "--exclude-bottom", "30", "--format", "webp"])
    assert code == 0
    line = report(out)["a.jpg"]
    assert line["plates"] == [] and len(line["faces"]) == 1  # excluded by the server
    assert line["output"] == str(out / "a.webp")
    assert Image.open(out / "a.webp").format == "WEBP"


def test_busy_servers_are_retried(settings: Settings, tmp_path: Path) -> None:
    write_tree(tmp_path / "in", count=1)
    with blur_servers(settings, busy=2) as [(url, counting)]:
        args = [str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--server", url]
        assert main(args) == 0
        assert counting.calls == 3
    assert (tmp_path / "out" / "a.jpg").is_file()


def test_spent_retries_and_unreachable_servers_are_failures(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "in", count=1)
    with blur_servers(settings, busy=5) as [(url, _)]:
        args = [str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--server", url]
        assert main([*args, "--retries", "0"]) == 1
    assert "HTTP 503: busy (after 1 try)" in capsys.readouterr().out
    dead = f"http://127.0.0.1:{free_port()}"
    args = [str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--server", dead]
    assert main([*args, "--retries", "1"]) == 1
    assert "ConnectionError" in capsys.readouterr().out
    assert not (tmp_path / "out" / "a.jpg").exists()
