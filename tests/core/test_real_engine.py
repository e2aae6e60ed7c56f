"""The real engine (CenterFace + PP-OCR plates) on the fixture photo and rendered plates."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from bench.measures import edge_energy, energy_left, to_gray
from bench.procutil import run_cli
from bench.synthetic import (
    FACE_BOX,
    FIXTURES,
    PLATE_QUAD,
    astronaut,
    encode,
    plate_image,
    scene_with_plate,
    warp_onto,
)
from blur_sdk import PROJECT_ROOT
from blur_sdk.core.find.base import FaceOptions, PlateDetection, PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.geometry import box_of, iou
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.models.manifest_runners import cpu_has_int8_dot
from blur_sdk.core.pipeline import anonymize, intensity_job
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings

pytestmark = pytest.mark.models

TWO_ROW_QUAD = np.array([[280, 330], [460, 330], [460, 440], [280, 440]], np.float64)


def two_row_scene() -> npt.NDArray[np.uint8]:
    """The photo with a two-row plate ("AB 12" over "CD 345") at TWO_ROW_QUAD."""
    top, bottom = plate_image("AB 12", 300, 90), plate_image("CD 345", 300, 90)
    plate = np.vstack([top[:86], bottom[4:]])  # one border around both rows
    return warp_onto(astronaut(), plate, TWO_ROW_QUAD)


@pytest.fixture(scope="module")
def plate_scene_plates(real_engine: Engine) -> list[PlateDetection]:
    return real_engine.detect(scene_with_plate(), plate_options=PlateOptions()).plates


def test_face_on_the_fixture_photo(real_engine: Engine) -> None:
    decoded = decode_image((FIXTURES / "astronaut.jpg").read_bytes())
    found = real_engine.detect(decoded.rgb, face_options=FaceOptions())
    assert len(found.faces) == 1
    face = found.faces[0]
    assert iou(face.box, FACE_BOX) > 0.5
    assert face.score > 0.5
    assert len(face.landmarks) == 5
    assert all(face.box[0] <= x <= face.box[2] and face.box[1] <= y <= face.box[3]
               for x, y in face.landmarks)  # fmt: skip
    left_eye, right_eye = face.landmarks[:2]
    assert left_eye[0] < right_eye[0]
    assert iou(face.region, face.box) < 1.0 and face.region[0] < face.box[0]  # 1.5x region


def test_plate_on_the_rendered_scene(plate_scene_plates: list[PlateDetection]) -> None:
    assert len(plate_scene_plates) == 1
    plate = plate_scene_plates[0]
    assert plate.text == "KA482MX"
    assert plate.candidates[0][0] == "KA482MX"
    assert plate.dscore > 0.5 and plate.oscore > 0.5
    corners = np.linalg.norm(np.array(plate.polygon) - PLATE_QUAD, axis=1)
    assert corners.max() <= 25, corners  # TL, TR, BR, BL in order, each near its own corner
    assert iou(plate.box, box_of(PLATE_QUAD)) > 0.5


@pytest.mark.parametrize("precision", ["auto", "int8", "f32"])
def test_text_detector_precision_finds_and_reads_the_rendered_plate(
    models_installed: Settings, precision: str
) -> None:
    """OV_PRECISION=auto (the default; int8 the same): the INT8 PP-OCRv4 text detector
    (weights/ppocr_det_int8.*) where the CPU has VNNI or AMX, else the f32 one; f32: always the
    f32 one. The same plate, read the same."""
    settings = dataclasses.replace(models_installed, ov_precision=precision)
    engine = Engine.build(finder_config(settings), faces=False)
    detector = engine.plate_detectors[0]
    int8 = detector.det.path.name == "ch_PP-OCRv4_det_int8.xml"  # type: ignore[attr-defined]
    assert int8 == (precision != "f32" and cpu_has_int8_dot())
    plates = engine.detect(scene_with_plate(), plate_options=PlateOptions()).plates
    assert [p.text for p in plates] == ["KA482MX"]
    assert iou(plates[0].box, box_of(PLATE_QUAD)) > 0.5


def test_two_row_plate_is_one_plate(real_engine: Engine) -> None:
    plates = real_engine.detect(two_row_scene(), plate_options=PlateOptions()).plates
    assert len(plates) == 1
    plate = plates[0]
    assert plate.text == "AB12CD345"  # top row first
    corners = np.linalg.norm(np.array(plate.polygon) - TWO_ROW_QUAD, axis=1)
    assert corners.max() <= 25, corners  # one polygon around both rows
    assert iou(plate.box, box_of(TWO_ROW_QUAD)) > 0.5


def gap_plate_scene() -> npt.NDArray[np.uint8]:
    """The photo with a yellow UK-style plate "V345  EBY": a wide gap between the two groups."""
    plate = np.full((112, 520, 3), (235, 200, 30), np.uint8)
    cv2.rectangle(plate, (2, 2), (517, 109), (25, 25, 25), 3)
    font = cv2.FONT_HERSHEY_DUPLEX
    cv2.putText(plate, "V345", (30, 86), font, 2.4, (15, 15, 15), 7, cv2.LINE_AA)
    cv2.putText(plate, "EBY", (330, 86), font, 2.4, (15, 15, 15), 7, cv2.LINE_AA)
    return warp_onto(astronaut(), plate, GAP_PLATE_QUAD)


GAP_PLATE_QUAD = np.array([[250, 400], [470, 396], [471, 444], [251, 448]], np.float64)


def test_a_plate_with_a_gap_between_its_groups_is_hidden_whole(real_engine: Engine) -> None:
    scene = gap_plate_scene()
    request = intensity_job(faces=-1, plates=10, plate_margin=0.3)
    result = anonymize(real_engine, encode(scene, "PNG"), request)
    assert result.of_kind("plate") and result.image is not None
    out = decode_image(result.image).rgb
    before, after = to_gray(scene), to_gray(out)
    energy_in, energy_out = edge_energy(before), edge_energy(after)
    for group in ((252, 398, 360, 446), (355, 398, 470, 446)):  # "V345", then "EBY"
        assert energy_left(energy_in, energy_out, group) <= 0.2, group
    far = (0, 0, 512, 300)  # the face and sky: untouched
    assert energy_left(energy_in, energy_out, far) == pytest.approx(1.0, abs=0.01)


def test_no_plates_in_a_photo_region_without_text(real_engine: Engine) -> None:
    region = np.ascontiguousarray(astronaut()[20:200, 140:320])  # hair and face
    assert real_engine.detect(region, plate_options=PlateOptions()).plates == []


def test_cli_detect_prints_one_face() -> None:
    env = {"CONFIG_DIR": str(PROJECT_ROOT / "no-such-config-dir"), "OV_THREADS": "1"}
    result = run_cli("detect", "tests/fixtures/astronaut.jpg", env_extra=env)
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["image"] == "tests/fixtures/astronaut.jpg"
    assert (report["width"], report["height"]) == (512, 512)
    assert len(report["faces"]) == 1
    assert iou(tuple(report["faces"][0]["box"]), FACE_BOX) > 0.5
    assert report["plates"] == []
    assert {"faces_ms", "plates_ms"} <= set(report["timings_ms"])
