"""Tests for blur_sdk.core.pipeline.anonymize with fake detectors (fast tier)."""

from __future__ import annotations

import io
import re

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from bench.synthetic import encode, save
from blur_sdk.core.find.base import FaceOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.pipeline import Exclusions, anonymize, hide_regions, intensity_job, job_regions
from blur_sdk.core.redact.logo import load_logo
from blur_sdk.errors import ProcessingTimeoutError
from tests.fakes import FakeEngine, FakeFaceDetector, FakePlateDetector

W, H = 320, 200
FACE = (40.0, 40.0, 100.0, 110.0)
PLATE_A = [(150.0, 140.0), (250.0, 140.0), (250.0, 170.0), (150.0, 170.0)]
PLATE_B = [(200.0, 20.0), (300.0, 20.0), (300.0, 50.0), (200.0, 50.0)]


def scene() -> npt.NDArray[np.uint8]:
    """Detailed pixels everywhere (noise over a gradient), so a blur always changes them."""
    rng = np.random.default_rng(0)
    base = np.linspace(0, 200, W, dtype=np.float64)[None, :, None] * np.ones((H, 1, 3))
    return np.clip(base + rng.integers(0, 56, (H, W, 3)), 0, 255).astype(np.uint8)


def decode(data: bytes | None) -> npt.NDArray[np.uint8]:
    assert data is not None
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def crop(rgb: npt.NDArray[np.uint8], x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    return rgb[int(y1) : int(y2), int(x1) : int(x2)]


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine([FACE], [(PLATE_A, "AB123"), (PLATE_B, "XY999")])


@pytest.fixture
def faces(engine: FakeEngine) -> FakeFaceDetector:
    return engine.faces


@pytest.fixture
def plates(engine: FakeEngine) -> FakePlateDetector:
    return engine.plates


@pytest.mark.parametrize(("face", "plate"), [(0, 0), (0, -1), (-1, 0), (-1, -1)])
def test_no_image_when_nothing_is_blurred(engine: Engine, face: int, plate: int) -> None:
    result = anonymize(engine, encode(scene(), "PNG"), intensity_job(faces=face, plates=plate))
    assert result.image is None
    assert result.content_type == ""
    assert (result.width, result.height) == (W, H)
    assert len(result.of_kind("face")) == (1 if face == 0 else 0)
    assert len(result.of_kind("plate")) == (2 if plate == 0 else 0)
    assert "render_ms" not in result.timings


def test_faces_off_means_the_face_detector_is_not_called(
    engine: Engine, faces: FakeFaceDetector, plates: FakePlateDetector
) -> None:
    result = anonymize(engine, encode(scene(), "PNG"), intensity_job(faces=-1, plates=5))
    assert faces.calls == []
    assert len(plates.calls) == 1
    assert result.of_kind("face") == []
    assert len(result.of_kind("plate")) == 2


def test_plates_off_means_the_plate_detector_is_not_called(
    engine: Engine, faces: FakeFaceDetector, plates: FakePlateDetector
) -> None:
    request = intensity_job(faces=5, plates=-1, face_options=FaceOptions(0.7))
    result = anonymize(engine, encode(scene(), "PNG"), request)
    assert plates.calls == []
    assert faces.calls == [FaceOptions(0.7)]
    assert result.of_kind("plate") == []


def test_blur_changes_detections_only_and_keeps_the_size(engine: Engine) -> None:
    rgb = scene()
    result = anonymize(engine, encode(rgb, "PNG"), intensity_job(faces=8, plates=8))
    assert result.content_type == "image/png" and result.format == "PNG"
    out = decode(result.image)
    assert out.shape == rgb.shape
    assert not np.array_equal(crop(out, *FACE), crop(rgb, *FACE))
    assert not np.array_equal(crop(out, 150, 140, 250, 170), crop(rgb, 150, 140, 250, 170))
    # far from every detection (the bottom-left corner), pixels are untouched
    assert np.array_equal(out[180:, :30], rgb[180:, :30])


def test_jpeg_in_jpeg_out(engine: Engine) -> None:
    result = anonymize(engine, encode(scene(), "JPEG"), intensity_job(faces=3))
    assert result.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(result.image or b"")).size == (W, H)


def test_timings(engine: Engine) -> None:
    result = anonymize(engine, encode(scene(), "PNG"), intensity_job(faces=5, plates=5))
    expected = {"decode_ms", "faces_ms", "plates_ms", "render_ms", "encode_ms", "total_ms"}
    assert expected <= set(result.timings)
    assert all(v >= 0 for v in result.timings.values())


@pytest.mark.parametrize(
    ("exclusions", "faces_left", "plates_left"),
    [
        (Exclusions(), 1, {"AB123", "XY999"}),
        (Exclusions(top=30), 1, {"AB123"}),  # XY999's centre (y 35) is in the top 30% (60 px)
        (Exclusions(bottom=25), 1, {"XY999"}),  # AB123's centre (y 155) is below 150
        (Exclusions(left=40), 0, {"AB123", "XY999"}),  # the face's centre (x 70) < 128
        (Exclusions(right=25), 1, {"AB123"}),  # XY999's centre (x 250) is right of 240
        (Exclusions(boxes=((190, 10, 310, 60),)), 1, {"AB123"}),
        (Exclusions(boxes=((60, 60, 80, 80), (190, 130, 210, 160))), 0, {"XY999"}),
    ],
)
def test_exclusions_drop_detections(
    engine: Engine, exclusions: Exclusions, faces_left: int, plates_left: set[str]
) -> None:
    rgb = scene()
    request = intensity_job(faces=5, plates=5, exclusions=exclusions)
    result = anonymize(engine, encode(rgb, "PNG"), request)
    assert len(result.of_kind("face")) == faces_left
    assert {o.detection.text for o in result.of_kind("plate")} == plates_left
    out = decode(result.image)
    if faces_left == 0:
        assert np.array_equal(crop(out, *FACE), crop(rgb, *FACE))


def test_skip_patterns_keep_plate_pixels(engine: Engine) -> None:
    rgb = scene()
    request = intensity_job(plates=10, skip_patterns=(re.compile("^XY"),))
    result = anonymize(engine, encode(rgb, "PNG"), request)
    skipped = {o.detection.text: o.skipped for o in result.of_kind("plate")}
    assert skipped == {"AB123": False, "XY999": True}
    out = decode(result.image)
    assert np.array_equal(crop(out, 195, 15, 305, 55), crop(rgb, 195, 15, 305, 55))
    assert not np.array_equal(crop(out, 150, 140, 250, 170), crop(rgb, 150, 140, 250, 170))


def test_skip_pattern_matching_every_plate_leaves_the_image_unchanged(engine: Engine) -> None:
    rgb = scene()
    request = intensity_job(plates=10, skip_patterns=(re.compile(r"\d"),))
    result = anonymize(engine, encode(rgb, "PNG"), request)
    assert all(o.skipped for o in result.of_kind("plate"))
    assert np.array_equal(decode(result.image), rgb)


def test_logo_covers_the_plate(engine: Engine) -> None:
    logo_png = encode(np.full((20, 60, 3), (255, 0, 0), np.uint8), "PNG")
    logo = load_logo(logo_png)
    assert logo.shape == (20, 60, 4)
    rgb = scene()
    result = anonymize(engine, encode(rgb, "PNG"), intensity_job(plates=5, logo=logo))
    out = decode(result.image)
    inner = crop(out, 160, 145, 240, 165).astype(int)  # well inside PLATE_A (aspect 10:3)
    assert np.abs(inner - (255, 0, 0)).max() <= 2
    assert np.array_equal(out[180:, :30], rgb[180:, :30])


def test_timeout() -> None:
    engine = Engine(FakeFaceDetector([], delay=1.0), [])
    request = intensity_job(faces=5, plates=-1, timeout=0.5)
    with pytest.raises(ProcessingTimeoutError, match="detection"):
        anonymize(engine, encode(scene(), "PNG"), request)


def rotated_jpeg(rgb: npt.NDArray[np.uint8]) -> bytes:
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: the upright raster is not the file's
    return save(image, "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    ("make", "split", "sent"),
    [("png", 1, True), ("rotated", 1, False), ("png", 2, False)],
)
def test_plate_readers_get_the_upload_only_when_it_is_the_raster(
    engine: Engine, plates: FakePlateDetector, make: str, split: int, sent: bool
) -> None:
    data = encode(scene(), "PNG") if make == "png" else rotated_jpeg(scene())
    anonymize(engine, data, intensity_job(split=split))
    assert plates.calls
    assert all((call.source == data) is sent for call in plates.calls)
    assert all(call.source is None for call in plates.calls if not sent)


@pytest.mark.parametrize("owned", [False, True])
def test_regions_hidden_in_one_copy_or_none_when_owned(engine: Engine, owned: bool) -> None:
    image = scene()
    job = intensity_job(faces=10, plates=10)
    found = engine.detect(image, face_options=job.faces, plate_options=job.plates)
    regions = job_regions(found, job, W, H)
    assert {r.kind for r in regions} == {"face", "plate"}  # (two redactions: faces, plates)
    out = hide_regions(image, regions, job, owned=owned)
    assert (out is image) == owned
    expected = hide_regions(scene(), regions, job)
    np.testing.assert_array_equal(out, expected)
    if not owned:
        np.testing.assert_array_equal(image, scene())  # the caller's image untouched
