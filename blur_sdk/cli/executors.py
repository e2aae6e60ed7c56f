"""The executors (the core in-process, or Blur servers over HTTP) and the pool of workers."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict

from blur_sdk.apis.blur.answer import blur_response
from blur_sdk.apis.blur.request import BlurDefaults, parse_blur_request, with_snapshot_filename
from blur_sdk.cli.batch import Item, write_atomic
from blur_sdk.cli.options import BlurOptions
from blur_sdk.cli.report import Outcome, detections
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.image.encode import CONTENT_TYPES
from blur_sdk.core.image.output import OutputOptions, encode_output
from blur_sdk.core.pipeline import Job, anonymize
from blur_sdk.errors import BlurSdkError
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings

# An executor does one image: an Outcome, or None when it gave up because the run is stopping.
Executor = Callable[[Item], Outcome | None]
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_BACKOFF = 30.0
EXIF_ORIENTATION = 0x0112


def local_job(settings: Settings, options: BlurOptions) -> Job:
    """The Job the Blur API would make of the same fields, as this machine's settings default."""
    if options.shape is not None:
        settings = dataclasses.replace(settings, shape=options.shape)
    logo = None
    if options.logo_file is not None:
        name, data = options.logo_file
        logo = FileStorage(io.BytesIO(data), filename=name, name="logo")
    form = Form(MultiDict(options.fields), settings)
    defaults = BlurDefaults.from_settings(settings)
    job = parse_blur_request(form, settings=settings, defaults=defaults, logo_upload=logo)
    if options.quality is not None:
        job = dataclasses.replace(job, jpeg_quality=options.quality)
    return job


class LocalExecutor:
    """The core in this process, over one engine shared by every worker thread."""

    def __init__(self, engine: Engine, job: Job) -> None:
        self.engine = engine
        self.job = job
        self.regions = job.plates.regions if job.plates is not None else ()

    def __call__(self, item: Item) -> Outcome:
        """Blur one image and write its output (if anything is hidden)."""
        job = with_snapshot_filename(self.job, item.source.name)
        job = dataclasses.replace(job, output=OutputOptions(format=item.format))
        result = anonymize(self.engine, item.source.read_bytes(), job)
        answer = blur_response(
            dataclasses.replace(result, image=None), item.source.name, self.regions
        )
        faces, plates = detections(answer)
        outcome = Outcome(item, result.width, result.height, faces, plates)
        if result.image is not None:
            write_atomic(item, result.image)
            outcome.written = True
        return outcome


def image_size(data: bytes) -> tuple[int, int] | tuple[None, None]:
    """(width, height) upright (after EXIF orientation), from the header only."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8):
                width, height = height, width
            return width, height
    except (OSError, ValueError, SyntaxError):
        return None, None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f"HTTP {response.status_code}: {body['error']}"
    return f"HTTP {response.status_code}: {response.text[:200].strip()}"


def _retry_after(response: requests.Response) -> float | None:
    try:
        return min(MAX_BACKOFF, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return None


class ServerExecutor:
    """One worker's connection to one Blur server: POST, retry 429/5xx with backoff, write."""

    def __init__(
        self,
        url: str,
        options: BlurOptions,
        stop: threading.Event,
        *,
        token: str | None = None,
        retries: int = 5,
        timeout: float = 120.0,
        backoff: float = 0.5,
    ) -> None:
        self.url = url
        self.options = options
        self.stop = stop
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def _post(self, item: Item, data: bytes) -> requests.Response:
        files: dict[str, tuple[str, bytes]] = {"upload": (item.source.name, data)}
        if self.options.logo_file is not None:
            files["logo"] = self.options.logo_file
        return self.session.post(
            self.url, files=files, data=self.options.fields, timeout=self.timeout
        )

    def __call__(self, item: Item) -> Outcome | None:
        """Post one image until it is answered (or the retries are spent), then write it."""
        data = item.source.read_bytes()
        error = ""
        for attempt in range(self.retries + 1):
            delay = min(MAX_BACKOFF, self.backoff * 2**attempt)
            try:
                response = self._post(item, data)
            except (requests.ConnectionError, requests.Timeout) as e:
                error = f"{self.url}: {type(e).__name__}: {e}"
            else:
                if response.status_code == 200:
                    return self._answered(item, data, response)
                error = f"{self.url}: {_error_text(response)}"
                if response.status_code not in RETRY_STATUSES:
                    return Outcome(item, error=error)
                asked = _retry_after(response)
                delay = delay if asked is None else asked
            if attempt < self.retries and self.stop.wait(delay):
                return None  # stopping: drop it, it is done next run
        tries = self.retries + 1
        return Outcome(item, error=f"{error} (after {tries} tr{'y' if tries == 1 else 'ies'})")

    def _answered(self, item: Item, data: bytes, response: requests.Response) -> Outcome:
        try:
            answer: dict[str, Any] = response.json()
            faces, plates = detections(answer)
            blur = answer.get("blur")
            image = base64.b64decode(blur["base64"], validate=True) if blur else None
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
            return Outcome(item, error=f"{self.url}: unexpected answer ({type(e).__name__})")
        width, height = image_size(image if image is not None else data)
        outcome = Outcome(item, width, height, faces, plates)
        if image is not None and blur is not None:
            quality = self.options.quality
            if blur.get("content_type") != CONTENT_TYPES[item.format] or quality is not None:
                image = transcode(image, item.format, quality)
            write_atomic(item, image)
            outcome.written = True
        return outcome


def transcode(data: bytes, fmt: str, quality: int | None) -> bytes:
    """A server's output in the format (and quality) asked for, its metadata kept."""
    decoded = decode_image(data, ImageLimits(max_pixels=2**40, max_side=2**20))
    image, _, _ = encode_output(
        decoded, decoded.rgb, OutputOptions(format=fmt), quality=quality or 95, copy_metadata=True
    )
    return image


def error_message(error: Exception) -> str:
    """A failure as the report and the summary show it."""
    if isinstance(error, BlurSdkError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"{type(error).__name__}: {error}"


def start_workers(
    items: Sequence[Item],
    executors: Sequence[Executor],
    stop: threading.Event,
    results: queue.Queue[Outcome | None],
) -> list[threading.Thread]:
    """One daemon thread per executor, taking the next item until none is left or `stop`.

    Each outcome is put on `results`; each thread puts None when it ends.
    """
    pending = iter(items)
    lock = threading.Lock()

    def work(execute: Executor) -> None:
        try:
            while not stop.is_set():
                with lock:
                    item = next(pending, None)
                if item is None:
                    break
                started = time.perf_counter()
                try:
                    outcome = execute(item)
                except Exception as e:  # noqa: BLE001  (one bad image must not end the batch)
                    outcome = Outcome(item, error=error_message(e))
                if outcome is not None:
                    outcome.ms = (time.perf_counter() - started) * 1000
                    results.put(outcome)
        finally:
            results.put(None)

    threads = [
        threading.Thread(target=work, args=(execute,), name=f"blur-{i}", daemon=True)
        for i, execute in enumerate(executors)
    ]
    for thread in threads:
        thread.start()
    return threads
