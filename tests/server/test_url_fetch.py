"""Tests for blur_sdk.server.url_fetch against a real local origin server."""

from __future__ import annotations

import dataclasses
import io
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image

from blur_sdk.errors import ConfigError, FetchError, PayloadTooLargeError
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings, load_settings


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
BIG_LIMIT = 1000


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up early (size cap, timeouts) is what the tests provoke


class _Handler(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.hosts.append(self.headers.get("Host", ""))
        if path in ("/", "/img.png"):
            self._send(200, PNG, "image/png", len(PNG))
        elif path == "/photo.jpg":
            self._send(200, JPEG, "image/jpeg", len(JPEG))
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            self._redirect(f"/chain/{left - 1}" if left > 0 else "../photo.jpg", 301 + left % 3)
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/to-ftp":
            self._redirect("ftp://127.0.0.1/x.png")
        elif path == "/html":
            self._send(200, b"<html>hi</html>", "text/html; charset=utf-8", 15)
        elif path == "/big":  # no Content-Length: only the streaming cap can stop it
            self._send(200, PNG + b"\0" * (BIG_LIMIT * 4), "image/png")
        elif path == "/big-declared":
            self._send(200, PNG, "image/png", 10**9)
        elif path == "/short":  # declares more than it sends, then closes
            self._send(200, PNG[:20], "image/png", 500)
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, PNG, "image/png", len(PNG))
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            for byte in PNG[:40]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        elif path == "/empty":
            self._send(200, b"", "image/png", 0)
        else:
            self._send(404, b"not found", "text/plain", 9)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    yield from _serve(server, "http")


def _serve(server: ThreadingHTTPServer, scheme: str) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tls_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS origin whose self-signed certificate is valid for camera.test only."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj",
         "/CN=camera.test", "-addext", "subjectAltName=DNS:camera.test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for url in _serve(server, "https"):
        yield url, cert


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    base = load_settings(env={}, config_dir=tmp_path)
    defaults: dict[str, Any] = {"url_connect_timeout": 0.5, "url_read_timeout": 0.3}
    return dataclasses.replace(base, **{**defaults, **changes})


@pytest.fixture
def open_settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path, url_allow_private=True, max_upload_bytes=BIG_LIMIT)


def test_fetches_png_and_filename(origin: str, open_settings: Settings) -> None:
    body, name = fetch_image_bytes(f"{origin}/img.png?x=1#frag", open_settings)
    assert body == PNG
    assert name == "img.png"


def test_filename_defaults_when_path_is_empty(origin: str, open_settings: Settings) -> None:
    assert fetch_image_bytes(origin, open_settings) == (PNG, "image.jpg")
    assert fetch_image_bytes(f"{origin}/", open_settings) == (PNG, "image.jpg")


def test_loopback_refused_by_default(origin: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"upload_url: .*127\.0\.0\.1.*loopback or private"):
        fetch_image_bytes(f"{origin}/img.png", _settings(tmp_path))


def test_loopback_allowed_through_allow_networks(origin: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, url_allow_networks=("10.0.0.0/8", "127.0.0.0/8"))
    assert fetch_image_bytes(f"{origin}/photo.jpg", settings)[0] == JPEG


def test_invalid_allow_network_is_config_error(origin: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, url_allow_networks=("not-a-cidr",))
    with pytest.raises(ConfigError, match="URL_ALLOW_NETWORKS"):
        fetch_image_bytes(f"{origin}/img.png", settings)


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "[fe80::1]",
        "[fd00:ec2::254]",
        "100.100.100.200",
        "0.0.0.0",
        "[::]",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
    ],
)
def test_metadata_and_link_local_always_refused(host: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, url_allow_private=True, url_allow_networks=("0.0.0.0/0", "::/0"))
    with pytest.raises(FetchError, match="never allowed"):
        fetch_image_bytes(f"http://{host}/latest/meta-data/", settings)


@pytest.mark.parametrize(
    "host", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "[fc00::1]", "[::1]"]
)
def test_private_ranges_refused_by_default(host: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="loopback or private"):
        fetch_image_bytes(f"http://{host}/a.jpg", _settings(tmp_path))


def test_ipv4_mapped_loopback_refused_by_default(origin: str, tmp_path: Path) -> None:
    port = origin.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match="loopback or private"):
        fetch_image_bytes(f"http://[::ffff:127.0.0.1]:{port}/img.png", _settings(tmp_path))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.png", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("gopher://127.0.0.1:6379/_x", "only http and https"),
        ("http://user:pass@example.com/a.png", "credentials"),
        ("http://user@example.com/a.png", "credentials"),
        ("http:///a.png", "no host"),
        ("http://example.com:99999/a.png", "invalid host or port"),
        ("http://example.com:abc/a.png", "invalid host or port"),
        ("http://example.com:0/a.png", "invalid host or port"),
        ("http://[::1/a.png", "invalid host or port"),
        ("http://example.com/a b.png", "whitespace"),
    ],
)
def test_bad_urls_refused(url: str, message: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match=message) as info:
        fetch_image_bytes(url, open_settings, field="logo")
    assert str(info.value).startswith("logo")
    assert info.value.field == "logo"


def test_redirect_chain_followed(origin: str, open_settings: Settings) -> None:
    settings = dataclasses.replace(open_settings, url_max_redirects=3)
    body, name = fetch_image_bytes(f"{origin}/chain/2", settings)
    assert body == JPEG
    assert name == "2"


def test_redirect_chain_too_long(origin: str, open_settings: Settings) -> None:
    settings = dataclasses.replace(open_settings, url_max_redirects=2)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_image_bytes(f"{origin}/chain/2", settings)


def test_redirect_loop(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_image_bytes(f"{origin}/loop", open_settings)


def test_no_redirects_allowed(origin: str, open_settings: Settings) -> None:
    settings = dataclasses.replace(open_settings, url_max_redirects=0)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_image_bytes(f"{origin}/chain/0", settings)


def test_redirect_to_metadata_refused(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match=r"169\.254\.169\.254.*never allowed"):
        fetch_image_bytes(f"{origin}/to-metadata", open_settings)


def test_redirect_to_other_scheme_refused(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch_image_bytes(f"{origin}/to-ftp", open_settings)


def test_http_error_status(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_image_bytes(f"{origin}/missing.png", open_settings)


def test_non_image_refused(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match=r"did not return an image \(content-type text/html\)"):
        fetch_image_bytes(f"{origin}/html", open_settings)


def test_empty_body_refused(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="empty body"):
        fetch_image_bytes(f"{origin}/empty", open_settings)


def test_oversize_streamed_body(origin: str, open_settings: Settings) -> None:
    with pytest.raises(PayloadTooLargeError, match="MAX_UPLOAD_BYTES=1000"):
        fetch_image_bytes(f"{origin}/big", open_settings)


def test_oversize_declared_length_refused_early(origin: str, open_settings: Settings) -> None:
    with pytest.raises(PayloadTooLargeError, match="1000000000 bytes"):
        fetch_image_bytes(f"{origin}/big-declared", open_settings)


def test_lying_content_length(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="closed the connection"):
        fetch_image_bytes(f"{origin}/short", open_settings)


def test_read_timeout(origin: str, open_settings: Settings) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out reading.*URL_READ_TIMEOUT=0\.3s"):
        fetch_image_bytes(f"{origin}/slow", open_settings)
    assert time.monotonic() - started < 0.9


def test_overall_deadline_stops_slow_drip(origin: str, open_settings: Settings) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 0\.4s"):
        fetch_image_bytes(f"{origin}/drip", open_settings, total_timeout=0.4)
    assert time.monotonic() - started < 0.9


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = _settings(tmp_path, url_allow_private=True)
    with pytest.raises(FetchError, match="could not connect"):
        fetch_image_bytes(f"http://127.0.0.1:{port}/a.png", settings)


def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch, open_settings: Settings) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(FetchError, match=r"could not resolve host 'nowhere\.invalid'"):
        fetch_image_bytes("http://nowhere.invalid/a.png", open_settings)


def test_any_resolved_address_refused_refuses_all(
    monkeypatch: pytest.MonkeyPatch, origin: str, open_settings: Settings
) -> None:
    port = int(origin.rsplit(":", 1)[1])
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(FetchError, match="never allowed"):
        fetch_image_bytes(f"http://mixed.test:{port}/img.png", open_settings)


def test_dns_resolved_once_and_connection_pinned(
    monkeypatch: pytest.MonkeyPatch, origin: str, open_settings: Settings
) -> None:
    port = int(origin.rsplit(":", 1)[1])
    calls: list[str] = []

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        ip = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    connected: list[Any] = []
    real_connect = socket.socket.connect

    def spy_connect(self: socket.socket, address: Any) -> None:
        connected.append(address)
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    _Handler.hosts.clear()
    body, _name = fetch_image_bytes(f"http://camera.test:{port}/img.png", open_settings)
    assert body == PNG
    assert calls == ["camera.test"]
    assert connected == [("127.0.0.1", port)]
    assert _Handler.hosts == [f"camera.test:{port}"]


@pytest.mark.parametrize(("host", "ok"), [("camera.test", True), ("other.test", False)])
def test_https_pinned_with_certificate_checked_against_url_host(
    monkeypatch: pytest.MonkeyPatch,
    tls_origin: tuple[str, Path],
    open_settings: Settings,
    host: str,
    ok: bool,
) -> None:
    origin, cert = tls_origin
    port = int(origin.rsplit(":", 1)[1])
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    real_context = ssl.create_default_context
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answer)
    monkeypatch.setattr(ssl, "create_default_context", lambda: real_context(cafile=str(cert)))
    url = f"https://{host}:{port}/img.png"
    if ok:
        assert fetch_image_bytes(url, open_settings) == (PNG, "img.png")
    else:
        with pytest.raises(FetchError, match=r"TLS error with 'other\.test'.*[Hh]ostname mismatch"):
            fetch_image_bytes(url, open_settings)


def test_https_to_plain_http_server_is_tls_error(origin: str, open_settings: Settings) -> None:
    with pytest.raises(FetchError, match="TLS error"):
        fetch_image_bytes(origin.replace("http://", "https://") + "/img.png", open_settings)
