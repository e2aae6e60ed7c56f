"""Every Blur API field, one by one, through Flask's test client with fake detectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from bench.synthetic import encode, noise, save
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.text_plates import ranking_formats
from blur_sdk.core.plates.regions import REGION_FORMATS
from blur_sdk.core.redact.blur import grown_plate
from blur_sdk.settings import Settings
from tests.clients import blur_client, error_of, ok, output_rgb, post, region_changed, serving
from tests.fakes import OTHER_PLATE, PLATE, ColourPlates, FakeEngine

FACE_INSIDE = (200, 80, 250, 160)  # well inside FACE_BOX
PLATE_INSIDE = (320, 404, 460, 428)  # well inside PLATE_QUAD
OTHER_INSIDE = (60, 305, 140, 325)
FAR = (0, 0, 60, 60)  # top-left corner, far from everything
MAGENTA = (255, 0, 255)


def two_plates() -> FakeEngine:
    """A fake engine finding the scene's face and two plates; it keeps the options they got."""
    return FakeEngine(plates=[(PLATE, "KA482MX"), (OTHER_PLATE, "AB123CD")])


def run(settings: Settings, **fields: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """POST the noise PNG with fields to a fresh app: (input pixels, answer)."""
    image = noise()
    return image, ok(post(blur_client(settings, two_plates()), encode(image, "PNG"), **fields))


# -- upload / upload_url ---------------------------------------------------------------------


@pytest.fixture
def image_server() -> Iterator[str]:
    with serving({"/photos/street.png": encode(noise(90, 70, seed=3), "PNG")}) as base:
        yield base


def test_upload_url_wins_over_upload(settings: Settings, image_server: str) -> None:
    engine = two_plates()
    client = blur_client(settings, engine, url_allow_private=True)
    url = f"{image_server}/photos/street.png"
    body = ok(post(client, encode(noise(300, 200), "PNG"), upload_url=url, plates="2"))
    assert output_rgb(body).shape[:2] == (70, 90)  # the URL's image, not the upload
    assert body["blur"]["filename"] == "street.png"
    assert engine.plates.calls[-1].forward["filename"] == "street.png"


# -- faces / plates intensities --------------------------------------------------------------


def test_minus_one_skips_detection(settings: Settings) -> None:
    engine = two_plates()
    body = ok(post(blur_client(settings, engine), faces="-1", plates="10"))
    assert body["faces"] == [] and engine.faces.calls == [] and len(engine.plates.calls) == 1
    engine = two_plates()
    body = ok(post(blur_client(settings, engine), faces="10", plates="-1"))
    assert body["plates"] == [] and engine.plates.calls == [] and len(engine.faces.calls) == 1


def test_zero_detects_without_blurring(settings: Settings) -> None:
    image, body = run(settings, faces="0", plates="0")
    assert body["blur"] is None and len(body["faces"]) == 1 and len(body["plates"]) == 2
    image, body = run(settings, faces="0", plates="6")
    out = output_rgb(body)
    assert region_changed(image, out, FACE_INSIDE) == 0
    assert region_changed(image, out, PLATE_INSIDE) > 0.9


def test_intensity_scales_blur(settings: Settings) -> None:
    strength = {}
    for level in ("1", "10"):
        image, body = run(settings, faces=level, plates="-1")
        x0, y0, x1, y1 = FACE_INSIDE
        diff = output_rgb(body)[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1].astype(int)
        strength[level] = np.abs(diff).mean()
        assert region_changed(image, output_rgb(body), FAR) == 0
    assert strength["10"] > strength["1"] > 0


def test_env_faces_plates_and_override(settings: Settings) -> None:
    engine = two_plates()
    client = blur_client(settings, engine, faces=8, plates=-1)
    image = noise()
    body = ok(post(client, encode(image, "PNG")))
    assert body["plates"] == [] and region_changed(image, output_rgb(body), FACE_INSIDE) > 0.9
    body = ok(post(client, encode(image, "PNG"), faces="0", plates="5"))
    out = output_rgb(body)
    assert region_changed(image, out, FACE_INSIDE) == 0
    assert region_changed(image, out, PLATE_INSIDE) > 0.9


@pytest.mark.parametrize("shape", ["ellipse", "circle", "square"])
def test_shape_from_env(settings: Settings, shape: str) -> None:
    engine = two_plates()
    image = noise()
    client = blur_client(settings, engine, shape=shape)
    out = output_rgb(ok(post(client, encode(image, "PNG"), faces="10")))
    corner = (180, 62, 184, 66)  # inside the box's corner: outside the ellipse and the circle
    beside = (167, 116, 169, 122)  # left of the box (beyond its feather), inside the circle
    assert (region_changed(image, out, corner) > 0.9) == (shape == "square")
    assert (region_changed(image, out, beside) > 0.9) == (shape == "circle")
    assert region_changed(image, out, (0, 0, 512, 40)) == 0


# -- regions, config, camera_id, snapshot_filename, face_max_resolution ---------------------


def test_regions_forwarded(settings: Settings) -> None:
    engine = two_plates()
    client = blur_client(settings, engine, regions=("us-ca",))
    ok(post(client))
    assert engine.plates.calls[-1].regions == ("us-ca",)
    ok(post(client, regions=["gb", "fr,de"]))
    assert list(engine.plates.calls[-1].regions) == ["gb", "fr", "de"]


def test_config_extends_env(settings: Settings) -> None:
    engine = two_plates()
    env_config = {"region": "strict", "mode": "fast", "threshold_o": 0.7}
    client = blur_client(settings, engine, config=env_config)
    ok(post(client))
    options = engine.plates.calls[-1]
    assert (options.mode, options.threshold_o, options.threshold_d) == ("fast", 0.7, None)
    assert options.forward["config"] == env_config
    ok(post(client, config='{"threshold_d": 0.2, "mode": "redaction", "text_formats": ["@@##"]}'))
    options = engine.plates.calls[-1]
    assert options.forward["config"] == {
        "region": "strict", "mode": "redaction", "threshold_o": 0.7, "threshold_d": 0.2,
        "text_formats": ["@@##"],
    }  # fmt: skip
    assert (options.mode, options.threshold_d, options.text_formats) == (
        "redaction",
        0.2,
        ("@@##",),
    )


def test_camera_id_and_snapshot_filename(settings: Settings) -> None:
    engine = two_plates()
    client = blur_client(settings, engine, camera_id="gate-1")
    ok(post(client, filename="in.png"))
    forward = engine.plates.calls[-1].forward
    assert (forward["camera_id"], forward["filename"]) == ("gate-1", "in.png")
    ok(post(client, camera_id="gate-2", snapshot_filename="renamed.jpg"))
    forward = engine.plates.calls[-1].forward
    assert (forward["camera_id"], forward["filename"]) == ("gate-2", "renamed.jpg")


def test_face_max_resolution(settings: Settings) -> None:
    engine = two_plates()
    client = blur_client(settings, engine, face_max_resolution=1024, face_min_resolution=900)
    ok(post(client))
    options = engine.faces.calls[-1]
    assert options.max_resolution == 1024 and options.min_resolution == 900
    ok(post(client, face_max_resolution="640"))
    options = engine.faces.calls[-1]
    assert options.max_resolution == 640 and options.min_resolution == 640


# -- skip_regexp -----------------------------------------------------------------------------


def _skipped(body: dict[str, Any]) -> dict[str, bool]:
    return {p["result"]["plate"]: p["skipped"] for p in body["plates"]}


def test_skip_regexp_keeps_matching_plates(settings: Settings) -> None:
    image, body = run(settings, plates="10", skip_regexp="^ka4")  # case-insensitive
    assert _skipped(body) == {"ka482mx": True, "ab123cd": False}
    out = output_rgb(body)
    assert region_changed(image, out, PLATE_INSIDE) == 0
    assert region_changed(image, out, OTHER_INSIDE) > 0.9


def test_skip_regexp_repeatable_with_commas(settings: Settings) -> None:
    _, body = run(settings, plates="10", skip_regexp=[r"^KA\d{3,4}", "cd$"])
    assert _skipped(body) == {"ka482mx": True, "ab123cd": True}


def test_skip_regexp_env_and_override(settings: Settings) -> None:
    engine = two_plates()
    image = noise()
    client = blur_client(settings, engine, skip_regexp=("AB1",), plates=10)
    body = ok(post(client, encode(image, "PNG")))
    assert _skipped(body) == {"ka482mx": False, "ab123cd": True}
    assert region_changed(image, output_rgb(body), OTHER_INSIDE) == 0
    assert _skipped(ok(post(client, skip_regexp="482"))) == {"ka482mx": True, "ab123cd": False}
    assert _skipped(ok(post(client, skip_regexp=""))) == {"ka482mx": False, "ab123cd": False}


# -- logo ------------------------------------------------------------------------------------


def _png(color: tuple[int, int, int], size: tuple[int, int] = (60, 14)) -> bytes:
    return save(Image.new("RGBA", size, (*color, 255)), "PNG")


@pytest.fixture
def logos(tmp_path: Path) -> Path:
    folder = tmp_path / "logos"
    (folder / "sub").mkdir(parents=True)
    (folder / "green.png").write_bytes(_png((0, 255, 0)))
    (folder / "sub" / "blue.png").write_bytes(_png((0, 0, 255)))
    (folder / "logo.png").write_bytes(_png((255, 0, 0)))
    (folder / "text.png").write_text("not an image")
    (tmp_path / "secret.png").write_bytes(_png((9, 9, 9)))
    (folder / "escape.png").symlink_to(tmp_path / "secret.png")
    return folder


def _plate_colour(body: dict[str, Any]) -> np.ndarray:
    x0, y0, x1, y1 = 370, 410, 410, 422  # the middle of PLATE_QUAD
    result: np.ndarray = output_rgb(body)[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    return result


def _logo_client(settings: Settings, logos: Path, **changes: Any) -> Any:
    engine = FakeEngine(plates=[(PLATE, "KA482MX")])
    return blur_client(settings, engine, logos_dir=logos, **changes)


@pytest.mark.parametrize(
    ("value", "colour"),
    [
        ("/logos/green.png", (0, 255, 0)),
        ("logos/green.png", (0, 255, 0)),
        ("green.png", (0, 255, 0)),
        ("/logos/sub/blue.png", (0, 0, 255)),
        ("/logos/", (255, 0, 0)),  # the folder names its default, logo.png
    ],
)
def test_logo_paths(
    settings: Settings, logos: Path, value: str, colour: tuple[int, int, int]
) -> None:
    body = ok(post(_logo_client(settings, logos), plates="10", logo=value))
    assert np.abs(_plate_colour(body) - colour).max() < 8


def test_logo_upload_warped_onto_plate(settings: Settings, logos: Path) -> None:
    image = noise()
    client = _logo_client(settings, logos, logo="green.png")
    logo = (_png((0, 0, 255)), "mine.png")
    body = ok(post(client, encode(image, "PNG"), plates="10", logo=logo))  # file beats LOGO
    assert np.abs(_plate_colour(body) - (0, 0, 255)).max() < 8
    out = output_rgb(body)
    quad = np.array(PLATE, np.float32)
    centre = quad.mean(axis=0)
    inner = (centre + (quad - centre) * 0.9).astype(np.int32)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [inner], 1)
    assert (out[mask == 1] == (0, 0, 255)).all(axis=1).mean() > 0.95
    grown = grown_plate(quad.astype(np.float64), settings.plate_margin + 0.1)  # + feather
    (x0, y0), (x1, y1) = grown.min(axis=0).astype(int), grown.max(axis=0).astype(int) + 1
    outside = np.ones(image.shape[:2], bool)
    outside[max(0, y0) : y1, max(0, x0) : x1] = False  # the plate, its blur margin, feather
    assert (out[outside] == image[outside]).all()


def test_env_logo_and_empty_disables(settings: Settings, logos: Path) -> None:
    client = _logo_client(settings, logos, logo="/logos/green.png")
    assert np.abs(_plate_colour(ok(post(client, plates="10"))) - (0, 255, 0)).max() < 8
    plain = _plate_colour(ok(post(client, plates="10", logo="")))
    assert np.abs(plain - (0, 255, 0)).max() > 60  # blurred noise is grey, not green


@pytest.mark.parametrize(
    "value",
    ["../secret.png", "/logos/../secret.png", "/tmp/x.png", "escape.png", "sub/../../secret.png"],
)
def test_logo_outside_is_refused(settings: Settings, logos: Path, value: str) -> None:
    message = error_of(post(_logo_client(settings, logos), plates="10", logo=value))
    assert message.startswith("logo:") and "outside" in message


@pytest.mark.parametrize(
    ("value", "words"), [("nope.png", "not found"), ("text.png", "not a readable image")]
)
def test_logo_bad_files(settings: Settings, logos: Path, value: str, words: str) -> None:
    message = error_of(post(_logo_client(settings, logos), plates="10", logo=value))
    assert message.startswith("logo:") and words in message


# -- exclusions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "face_kept", "plate_kept"),
    [
        ({"et": "30"}, False, True),  # face centre y=119 < 30% of 512
        ({"eb": "25"}, True, False),  # plate centre y=416 > 75% of 512
        ({"el": "50"}, False, True),  # face centre x=225 < 256
        ({"er": "50"}, True, False),  # plate centre x=391 > 256
        ({"et": "10", "eb": "10", "el": "10", "er": "10"}, True, True),
    ],
)
def test_margins(
    settings: Settings, fields: dict[str, str], face_kept: bool, plate_kept: bool
) -> None:
    engine = FakeEngine()
    image = noise()
    body = ok(
        post(blur_client(settings, engine), encode(image, "PNG"), faces="9", plates="9", **fields)
    )
    out = output_rgb(body)
    assert (len(body["faces"]) == 1) == face_kept
    assert (len(body["plates"]) == 1) == plate_kept
    assert (region_changed(image, out, FACE_INSIDE) > 0.9) == face_kept
    assert (region_changed(image, out, PLATE_INSIDE) > 0.9) == plate_kept


def test_exclusion_boxes(settings: Settings) -> None:
    engine = FakeEngine()
    image = noise()
    client = blur_client(settings, engine)
    body = ok(post(client, encode(image, "PNG"), faces="9", plates="9",
                   xmin="170", ymin="50", xmax="280", ymax="190"))  # fmt: skip
    assert body["faces"] == [] and len(body["plates"]) == 1
    out = output_rgb(body)
    assert region_changed(image, out, FACE_INSIDE) == 0
    assert region_changed(image, out, PLATE_INSIDE) > 0.9
    body = ok(post(client, encode(image, "PNG"), faces="9", plates="9",
                   xmin=["170", "290"], ymin=["50", "380"], xmax=["280", "500"],
                   ymax=["190", "450"]))  # fmt: skip
    assert body["faces"] == [] and body["plates"] == []
    assert (output_rgb(body) == image).all()


# -- split / overlap -------------------------------------------------------------------------


def _panorama() -> np.ndarray:
    image = noise(1200, 200)
    for x0 in (100, 560, 1000):  # the middle one lies in the overlap of 2 chunks
        image[80:110, x0 : x0 + 80] = MAGENTA
    return image


def _split(settings: Settings, **fields: str) -> tuple[ColourPlates, dict[str, Any]]:
    detector = ColourPlates("magenta", "MAG", MAGENTA)
    client = blur_client(settings, Engine(None, [detector]))
    return detector, ok(post(client, encode(_panorama(), "PNG"), plates="5", **fields))


def _xs(body: dict[str, Any]) -> list[tuple[int, int]]:
    return sorted((p["result"]["box"]["xmin"], p["result"]["box"]["xmax"]) for p in body["plates"])


def test_no_split_by_default(settings: Settings) -> None:
    detector, body = _split(settings)
    assert detector.widths == [1200]
    assert _xs(body) == [(100, 180), (560, 640), (1000, 1080)]


def test_split_merges_duplicates_in_overlap(settings: Settings) -> None:
    detector, body = _split(settings, split="2")  # 20% overlap: [0, 667) and [533, 1200)
    assert detector.widths == [667, 667]
    assert _xs(body) == [(100, 180), (560, 640), (1000, 1080)]
    image = _panorama()
    out = output_rgb(body)
    for x0 in (100, 560, 1000):  # the plate's edges blend with the noise around it
        assert region_changed(image, out, (x0 - 4, 76, x0 + 84, 114)) > 0.2
    assert region_changed(image, out, (300, 0, 500, 200)) == 0


def test_split_overlap(settings: Settings) -> None:
    detector, body = _split(settings, split="2", overlap="50")
    assert detector.widths == [800, 800]
    assert len(body["plates"]) == 3
    detector, body = _split(settings, split="3", overlap="0")
    assert detector.widths == [400, 400, 400]
    assert len(body["plates"]) == 3
    detector, body = _split(settings, split="0")  # 0 = no split, like 1
    assert detector.widths == [1200]


def test_embedded_reader_ranks_by_region_formats_like_the_snapshot_service() -> None:
    """Blur's regions reach the embedded reader as hints, as they do through Snapshot."""
    formats = ranking_formats(PlateOptions(regions=("fr",)))
    assert formats == REGION_FORMATS["fr"]
