"""Fetch an image from a client-supplied URL without letting it reach internal services."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from blur_sdk.errors import FetchError, PayloadTooLargeError
from blur_sdk.server.url_rules import SockAddr, Target, allow_networks, parse_url, resolve
from blur_sdk.settings import Settings

DEFAULT_FILENAME = "image.jpg"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_SIZE = 64 * 1024
USER_AGENT = "blur-sdk"

IMAGE_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),  # PNG
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),  # BMP
    (0, b"II*\x00"),  # TIFF little-endian
    (0, b"MM\x00*"),  # TIFF big-endian
    (8, b"WEBP"),  # RIFF....WEBP (RIFF checked below)
)


def fetch_image_bytes(
    url: str, settings: Settings, *, field: str = "upload_url", total_timeout: float | None = None
) -> tuple[bytes, str]:
    """Download an image from url under the URL safety rules; return (body, filename).

    total_timeout bounds the whole fetch, redirects included; by default it is
    URL_CONNECT_TIMEOUT + 2 * URL_READ_TIMEOUT.
    """
    allowed = allow_networks(settings.url_allow_networks)
    seconds = total_timeout or settings.url_connect_timeout + 2 * settings.url_read_timeout
    budget = _Budget(settings, field, seconds, time.monotonic() + seconds)
    parse_url(url, field)
    filename, current = _filename(urlsplit(url).path), url
    for _hop in range(settings.url_max_redirects + 1):
        target = parse_url(current, field)
        conn = _PinnedConnection(target, resolve(target, settings, allowed, field), budget)
        try:
            response = _request(conn, target, budget)
            if response.status in REDIRECT_STATUSES:
                location = (response.getheader("Location") or "").strip()
                if not location:
                    raise FetchError(f"{field}: redirect without a Location header", field)
                current = urljoin(current, location)
                continue
            if not 200 <= response.status < 300:
                raise FetchError(f"{field}: the server answered HTTP {response.status}", field)
            body = _read_body(conn, response, target, budget)
        finally:
            conn.close()
        _check_image(body, response.getheader("Content-Type"), field)
        return body, filename
    raise FetchError(
        f"{field}: too many redirects (more than URL_MAX_REDIRECTS={settings.url_max_redirects})",
        field,
    )


@dataclass(frozen=True)
class _Budget:
    """The settings, field name and overall deadline of one fetch."""

    settings: Settings
    field: str
    seconds: float
    deadline: float

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError(
                f"{self.field}: timed out (the fetch took longer than {self.seconds:g}s)",
                self.field,
            )
        return left

    @contextlib.contextmanager
    def reading(self, conn: http.client.HTTPConnection, host: str) -> Iterator[None]:
        """Set the per-read socket timeout and turn network failures into FetchError."""
        field, read_timeout = self.field, self.settings.url_read_timeout
        left = self.remaining()
        if conn.sock is not None:
            conn.sock.settimeout(min(read_timeout, left))
        try:
            yield
        except TimeoutError as e:
            self.remaining()
            raise FetchError(
                f"{field}: timed out reading from {host!r} (URL_READ_TIMEOUT={read_timeout:g}s)",
                field,
            ) from e
        except http.client.IncompleteRead as e:
            raise FetchError(f"{field}: {host!r} closed the connection mid-body", field) from e
        except http.client.HTTPException as e:
            raise FetchError(f"{field}: {host!r} sent an invalid HTTP response", field) from e
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise FetchError(f"{field}: network error with {host!r}: {reason}", field) from e


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) connection to already checked addresses; Host and TLS use the URL's host."""

    def __init__(self, target: Target, addresses: list[SockAddr], budget: _Budget) -> None:
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.scheme == "https" else 80
        self._tls, self._addresses, self._budget = target.scheme == "https", addresses, budget

    def connect(self) -> None:
        """Try each checked address in turn; never resolve the host again."""
        timeout = self._budget.settings.url_connect_timeout
        for index, (family, sockaddr) in enumerate(self._addresses):
            wait = min(timeout, self._budget.remaining())
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(wait)
            try:
                sock.connect(sockaddr)
                if self._tls:
                    sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except OSError as e:
                sock.close()
                if index == len(self._addresses) - 1 or isinstance(e, ssl.SSLError):
                    raise
                continue
            self.sock = sock
            return


def _request(conn: _PinnedConnection, target: Target, budget: _Budget) -> http.client.HTTPResponse:
    settings, field = budget.settings, budget.field
    try:
        conn.connect()
    except TimeoutError as e:
        raise FetchError(
            f"{field}: timed out connecting to {target.host!r} "
            f"(URL_CONNECT_TIMEOUT={settings.url_connect_timeout:g}s)",
            field,
        ) from e
    except ssl.SSLError as e:
        reason = getattr(e, "verify_message", None) or e.reason  # e.g. "Hostname mismatch"
        raise FetchError(f"{field}: TLS error with {target.host!r}: {reason}", field) from e
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise FetchError(f"{field}: could not connect to {target.host!r}: {reason}", field) from e
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*", "Connection": "close"}
    with budget.reading(conn, target.host):
        conn.request("GET", target.path, headers=headers)
        return conn.getresponse()


def _read_body(
    conn: _PinnedConnection, response: http.client.HTTPResponse, target: Target, budget: _Budget
) -> bytes:
    limit, field = budget.settings.max_upload_bytes, budget.field
    declared = (response.getheader("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(
            f"{field}: the image is {int(declared)} bytes, more than MAX_UPLOAD_BYTES={limit}",
            field,
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        with budget.reading(conn, target.host):
            chunk = response.read1(CHUNK_SIZE)
        if not chunk:
            if response.length:  # EOF before the declared Content-Length
                raise FetchError(f"{field}: {target.host!r} closed the connection mid-body", field)
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(
                f"{field}: the image is larger than MAX_UPLOAD_BYTES={limit}", field
            )
        chunks.append(chunk)


def _check_image(body: bytes, content_type: str | None, field: str) -> None:
    if not body:
        raise FetchError(f"{field}: the server returned an empty body", field)
    for offset, magic in IMAGE_SIGNATURES:
        if body[offset : offset + len(magic)] == magic and (offset == 0 or body[:4] == b"RIFF"):
            return
    shown = (content_type or "missing").split(";", 1)[0].strip()[:100]
    raise FetchError(f"{field} did not return an image (content-type {shown})", field)


def _filename(path: str) -> str:
    name = PurePosixPath(unquote(path)).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "\\/\"'")[:200]
    return name.strip(" .") or DEFAULT_FILENAME
