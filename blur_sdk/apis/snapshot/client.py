"""A plate detector that asks a Snapshot service (ours, Plate Recognizer's SDK or cloud)."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import requests
from PIL import Image

from blur_sdk.apis.snapshot.results import from_snapshot_result
from blur_sdk.core.find.base import PlateDetection, PlateFinder, PlateOptions, RGBImage
from blur_sdk.core.geometry import as_quad
from blur_sdk.core.plates.deskew import deskew_plate
from blur_sdk.errors import ConfigError, UpstreamError, UpstreamTimeoutError
from blur_sdk.settings import Settings

READER_PATH = "/v1/plate-reader/"
INFO_PATH = "/info/"
INFO_TIMEOUT = 5.0  # seconds; /info/ is a status probe, it must not hang the caller
UPLOAD_QUALITY = 92  # JPEG quality of the image sent for reading (not the output's)
MAX_RETRY_WAIT = 2.0  # seconds waited once on HTTP 429 (the cloud's per-second throttle)
MESSAGE_LENGTH = 300


def json_object(response: requests.Response, url: str) -> dict[str, Any]:
    """The upstream's JSON object answer; its HTTP errors and garbage become UpstreamError."""
    if response.status_code >= 400:
        raise UpstreamError(
            f"Snapshot at {url} answered HTTP {response.status_code}: {upstream_message(response)}"
        )
    try:
        body = response.json()
    except ValueError as e:
        raise UpstreamError(
            f"Snapshot at {url} sent a body that is not JSON: {response.text[:80]!r}"
        ) from e
    if not isinstance(body, dict):
        raise UpstreamError(f"Snapshot at {url} sent JSON that is not an object")
    return body


def upstream_message(response: requests.Response) -> str:
    """The upstream's own error text: its JSON `detail`/`error`/`message`, else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:MESSAGE_LENGTH] or response.reason or "no message"
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if body.get(key):
                return str(body[key])[:MESSAGE_LENGTH]
    return json.dumps(body)[:MESSAGE_LENGTH]


def _retry_wait(response: requests.Response) -> float:
    try:
        wait = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        wait = 1.0
    return min(max(wait, 0.0), MAX_RETRY_WAIT) if math.isfinite(wait) else 1.0


def encode_jpeg(image: RGBImage, quality: int = UPLOAD_QUALITY) -> bytes:
    """An RGB raster as JPEG bytes for the upload."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).convert("RGB").save(
        buffer, format="JPEG", quality=quality
    )
    return buffer.getvalue()


def snapshot_config(options: PlateOptions) -> dict[str, Any]:
    """The `config` JSON sent upstream: the request's config with the typed options on top."""
    config = dict(options.forward.get("config") or {})
    config["mode"] = options.mode
    if options.threshold_d is not None:
        config["threshold_d"] = options.threshold_d
    if options.threshold_o is not None:
        config["threshold_o"] = options.threshold_o
    if options.text_formats:
        config["text_formats"] = list(options.text_formats)
    return config


class SnapshotClient(PlateFinder):
    """PlateDetector over HTTP: POST {SDK_URL}/v1/plate-reader/, results parsed and deskewed.

    One requests.Session per thread (sessions are not thread-safe); nothing else is shared
    or written after construction, so one client serves every request thread of a worker.
    """

    name = "snapshot"

    def __init__(
        self,
        settings: Settings,
        *,
        session_factory: Callable[[], requests.Session] = requests.Session,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.sdk_url:
            raise ConfigError("SDK_URL is empty: the Snapshot client needs a service URL")
        self.base_url = settings.sdk_url.rstrip("/")
        self.url = self.base_url + READER_PATH
        self.timeout = settings.upstream_timeout
        self._headers = {"Authorization": f"Token {settings.token}"} if settings.token else {}
        self._session_factory = session_factory
        self._sleep = sleep
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory()
            self._local.session = session
        return session

    def _send(self, method: str, url: str, timeout: float, **kwargs: Any) -> requests.Response:
        try:
            return self._session().request(
                method, url, headers=self._headers, timeout=timeout, **kwargs
            )
        except requests.Timeout as e:
            raise UpstreamTimeoutError(
                f"Snapshot at {url} did not answer within {timeout:g} s (UPSTREAM_TIMEOUT)"
            ) from e
        except requests.RequestException as e:
            raise UpstreamError(f"Snapshot at {url} is unreachable: {e}") from e

    def read(self, image: RGBImage, options: PlateOptions) -> dict[str, Any]:
        """POST the image to the plate reader; the upstream's JSON answer (a dict)."""
        data: dict[str, Any] = {"config": json.dumps(snapshot_config(options))}
        if options.regions:
            data["regions"] = list(options.regions)
        if options.forward.get("camera_id"):
            data["camera_id"] = options.forward["camera_id"]
        filename = options.forward.get("filename") or "image.jpg"
        upload = options.source or encode_jpeg(image)  # the upload itself when it is this raster
        content_type = "image/png" if upload.startswith(b"\x89PNG") else "image/jpeg"
        started = time.monotonic()
        for attempt in range(2):
            files = {"upload": (filename, upload, content_type)}
            remaining = self.timeout - (time.monotonic() - started)
            response = self._send("POST", self.url, max(remaining, 0.1), data=data, files=files)
            if response.status_code == 429 and attempt == 0:
                wait = _retry_wait(response)
                if time.monotonic() - started + wait < self.timeout:
                    self._sleep(wait)
                    continue
            break
        body = json_object(response, self.url)
        if not isinstance(body.get("results"), list):
            raise UpstreamError(f"Snapshot at {self.url} sent JSON without a 'results' list")
        return body

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        """Plates read by the Snapshot service; box-only results get a deskewed polygon."""
        results = self.read(image, options)["results"]
        plates = []
        for index, result in enumerate(results):
            try:
                if not isinstance(result, dict):
                    raise TypeError(f"expected an object, got {type(result).__name__}")
                plate = from_snapshot_result(result)
                if result.get("polygon") is None:
                    quad = deskew_plate(image, plate.box)
                    plate = dataclasses.replace(plate, polygon=as_quad(quad))
            except (KeyError, TypeError, ValueError) as e:
                raise UpstreamError(
                    f"Snapshot at {self.url} sent a malformed result #{index}: {e!r}"
                ) from e
            plates.append(plate)
        return plates

    def info(self) -> dict[str, Any]:
        """The Snapshot service's GET /info/ answer."""
        url = self.base_url + INFO_PATH
        return json_object(self._send("GET", url, min(INFO_TIMEOUT, self.timeout)), url)

    def shift(self, plate: PlateDetection, dx: float) -> PlateDetection:
        """The plate moved right by dx, and the upstream's own result (raw) with it."""
        moved = super().shift(plate, dx)
        return dataclasses.replace(moved, raw=shift_raw(plate.raw, dx)) if dx else moved


def _shift_box(box: dict[str, Any], dx: float) -> dict[str, Any]:
    return {**box, "xmin": box["xmin"] + dx, "xmax": box["xmax"] + dx}


def shift_raw(raw: dict[str, Any] | None, dx: float) -> dict[str, Any] | None:
    """A Snapshot result's plate box (and vehicle box, when there is one) moved right by dx."""
    if raw is None or not isinstance(raw.get("box"), dict):
        return raw
    raw = {**raw, "box": _shift_box(raw["box"], round(dx))}
    vehicle = raw.get("vehicle")
    vbox = vehicle.get("box") if isinstance(vehicle, dict) else None
    if isinstance(vehicle, dict) and isinstance(vbox, dict) and any(vbox.values()):
        # (an all-zero box means "no vehicle": it stays zero)
        raw["vehicle"] = {**vehicle, "box": _shift_box(vbox, round(dx))}
    return raw
