"""Finders without models: CenterFace and PP-OCR decoding, text lines grouped into plates, the
engine's strips and merging."""

from __future__ import annotations

import dataclasses
import itertools
import math

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from bench.synthetic import box_quad
from blur_sdk.apis.snapshot.client import shift_raw
from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import (
    FaceDetection,
    FaceOptions,
    PlateDetection,
    PlateFinder,
    PlateOptions,
)
from blur_sdk.core.find.config import FAINT_SIDE
from blur_sdk.core.find.engine import Engine, chunk_spans
from blur_sdk.core.find.faces import STRIDE, decode_centerface, input_scale
from blur_sdk.core.find.text_plates import (
    PAD_SIDES,
    PAD_TOP_BOTTOM,
    OcrPlateDetector,
    TextLine,
    group_lines,
    keep_geometry,
    line_geometry,
    plate_quad,
    reading_order,
    registration_lines,
)
from blur_sdk.core.find.unite import merge_faces, merge_plates
from blur_sdk.core.geometry import as_quad, box_of, order_quad
from blur_sdk.core.models.ppocr import (
    FRAME_MIN_SIDE,
    TextBox,
    TextReading,
    decode_ctc,
    decode_db,
    det_scale,
    normalise_into,
)
from blur_sdk.errors import ConfigError
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings
from tests.fakes import BlobFaces, ColourPlates, FakeFaceDetector, FakePlateDetector

Quad = npt.NDArray[np.float64]


def contains(outer: tuple[float, ...], inner: tuple[float, ...], slack: float = 0.0) -> bool:
    return (
        outer[0] <= inner[0] + slack
        and outer[1] <= inner[1] + slack
        and outer[2] >= inner[2] - slack
        and outer[3] >= inner[3] - slack
    )


# --- CenterFace ----------------------------------------------------------------------------


def centerface_outputs(h: int, w: int) -> list[npt.NDArray[np.float32]]:
    return [
        np.zeros((1, 1, h, w), np.float32),
        np.zeros((1, 2, h, w), np.float32),
        np.zeros((1, 2, h, w), np.float32),
        np.zeros((1, 10, h, w), np.float32),
    ]


def test_decode_centerface_one_peak() -> None:
    heatmap, sizes, offsets, landmarks = centerface_outputs(32, 48)
    y, x = 10, 20
    heatmap[0, 0, y, x] = 0.9
    heatmap[0, 0, y, x + 1] = 0.1  # below the threshold
    sizes[0, 0, y, x] = math.log(48 / STRIDE)  # height 48 px (network input)
    sizes[0, 1, y, x] = math.log(40 / STRIDE)  # width 40 px
    offsets[0, 0, y, x] = 0.25  # y offset in cells
    offsets[0, 1, y, x] = -0.5  # x offset
    landmarks[0, 0, y, x] = 0.5  # landmark 0: y fraction of the box height
    landmarks[0, 1, y, x] = 0.25  # landmark 0: x fraction of the box width
    scale = 2.0  # the network saw the image at twice its size
    found = decode_centerface(
        [heatmap, sizes, offsets, landmarks], 0.2, scale, width=1000, height=1000
    )
    assert len(found) == 1
    box, score, points = found[0]
    cx, cy = (x - 0.5 + 0.5) * STRIDE, (y + 0.25 + 0.5) * STRIDE  # 80, 43 (network pixels)
    expected = ((cx - 20) / scale, (cy - 24) / scale, (cx + 20) / scale, (cy + 24) / scale)
    assert box == pytest.approx(expected)
    assert score == pytest.approx(0.9)
    assert len(points) == 5
    assert points[0] == pytest.approx(((cx - 20 + 0.25 * 40) / scale, (cy - 24 + 0.5 * 48) / scale))
    assert points[1] == pytest.approx((expected[0], expected[1]))  # zero fractions: top-left


def test_decode_centerface_clips_to_image_and_scores_threshold() -> None:
    heatmap, sizes, offsets, landmarks = centerface_outputs(8, 8)
    heatmap[0, 0, 0, 0] = 0.6
    sizes[0, :, 0, 0] = math.log(40 / STRIDE)  # a 40 px box centred at (2, 2): mostly outside
    outputs = [heatmap, sizes, offsets, landmarks]
    found = decode_centerface(outputs, 0.5, 1.0, width=30, height=30)
    assert len(found) == 1
    assert found[0][0] == pytest.approx((0.0, 0.0, 22.0, 22.0))
    assert decode_centerface(outputs, 0.7, 1.0, width=30, height=30) == []


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4000, 3000), 1920 / 4000),  # long side capped
        ((1500, 1000), 1.0),  # between min and max: untouched
        ((1000, 640), 1.28),  # upscaled to the min resolution
        ((200, 100), 3.0),  # upscaling is at most 3x
        ((100, 1600), 1.0),  # portrait: the long side counts
    ],
)
def test_input_scale_policy(size: tuple[int, int], expected: float) -> None:
    options = FaceOptions(max_resolution=1920, min_resolution=1280)
    assert input_scale(*size, options) == pytest.approx(expected)


# --- PP-OCR decoding -----------------------------------------------------------------------


def test_det_scale() -> None:
    assert det_scale(800, 600) == pytest.approx(736 / 600)  # short side up to 736
    assert det_scale(1000, 500) == pytest.approx(1280 / 1000)  # unless the long side passes 1280
    assert det_scale(4000, 3000) == pytest.approx(1280 / 4000)  # long side down to 1280
    assert det_scale(4000, 3000, 2000) == pytest.approx(2000 / 4000)  # PLATE_MAX_RESOLUTION
    assert det_scale(1000, 800) == 1.0
    assert FRAME_MIN_SIDE == 600  # whole frames (PLATE_MIN_RESOLUTION)
    assert det_scale(800, 600, min_side=600) == 1.0
    assert det_scale(400, 300, min_side=600) == pytest.approx(2.0)


class RecordingTextDetector:
    """A text-detection runner that records its input shapes and finds no text."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def infer(self, batch: npt.NDArray[np.uint8], dynamic: bool = False) -> list[np.ndarray]:
        self.shapes.append(batch.shape)
        return [np.zeros((1, 1, *batch.shape[1:3]), np.float32)]


class CharsetOnly:
    """A recogniser runner that is never run: its characters only."""

    def metadata(self, *keys: str) -> str:
        return "A\nB"


@pytest.mark.parametrize(
    ("size", "min_side", "shape", "faint"),
    [
        ((800, 600), FRAME_MIN_SIDE, (1, 608, 800, 3), (1, 384, 480, 3)),  # native, not 992 x 736
        ((400, 300), FRAME_MIN_SIDE, (1, 608, 800, 3), (1, 320, 416, 3)),  # up to a 600 short side
        ((1920, 1080), FRAME_MIN_SIDE, (1, 736, 1280, 3), (1, 288, 480, 3)),  # down to 1280 long
        ((800, 600), 736, (1, 736, 992, 3), (1, 384, 480, 3)),  # 736: PP-OCR's own sizing
    ],
)
def test_frame_text_detection_size(
    size: tuple[int, int], min_side: int, shape: tuple[int, ...], faint: tuple[int, ...]
) -> None:
    """The frame at PLATE_MIN_RESOLUTION / PLATE_MAX_RESOLUTION, then its equalised copy at
    PLATE_FAINT_RESOLUTION (never enlarged); with that 0, or in Snapshot's mode=fast, the
    frame only."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    for faint_side, shapes in ((FAINT_SIDE, [shape, faint]), (0, [shape])):
        det = RecordingTextDetector()
        finder = OcrPlateDetector(det, CharsetOnly(), min_side=min_side, faint_side=faint_side)  # type: ignore[arg-type]
        assert finder.detect(image, PlateOptions()) == []
        assert det.shapes == shapes
        det.shapes.clear()  # Snapshot's mode=fast: the frame only
        assert finder.detect(image, PlateOptions(mode="fast")) == []
        assert det.shapes == [shape]


def test_plate_min_resolution_reaches_the_finder(settings: Settings) -> None:
    assert finder_config(settings).plate_min_resolution == FRAME_MIN_SIDE
    changed = dataclasses.replace(settings, plate_min_resolution=736)
    assert finder_config(changed).plate_min_resolution == 736


def test_decode_db_two_rectangles() -> None:
    prob = np.zeros((200, 320), np.float32)
    prob[20:40, 30:130] = 0.9  # map pixels; the image is half the map's size
    prob[100:130, 50:250] = 0.8
    boxes = sorted(decode_db(prob, 0.5, 2.0, 2.0), key=lambda b: b.quad[0, 1])
    assert len(boxes) == 2
    expected = [(15, 10, 65, 20), (25, 50, 125, 65)]  # in image pixels
    for box, (x1, y1, x2, y2), score in zip(boxes, expected, (0.9, 0.8), strict=True):
        assert box.quad.shape == (4, 2)
        assert box.score == pytest.approx(score, abs=0.08)  # the dilated edge lowers it
        got = box_of(box.quad)
        assert contains(got, (x1, y1, x2, y2), slack=1)  # unclipped: grows around the text
        grow = 0.8 * (y2 - y1)  # DB unclip: area x 1.6 / perimeter, well under a text height
        assert contains((x1 - grow, y1 - grow, x2 + grow, y2 + grow), got)
        tl, tr, _, bl = box.quad
        assert tl[0] < tr[0] and tl[1] < bl[1]  # TL, TR, BR, BL order
    assert len(decode_db(prob, 0.82, 2.0, 2.0)) == 1  # the 0.8 box fails the score floor


def test_decode_db_drops_specks() -> None:
    prob = np.zeros((50, 50), np.float32)
    prob[10:12, 10:12] = 1.0
    assert decode_db(prob, 0.1, 1.0, 1.0) == []


def ctc_probs(frames: list[tuple[int, float, int, float]], classes: int) -> np.ndarray:
    """Per frame (best class, its prob, second class, its prob); the rest share what is left."""
    probs = np.zeros((len(frames), classes), np.float32)
    for t, (best, p_best, second, p_second) in enumerate(frames):
        probs[t] = (1 - p_best - p_second) / (classes - 2)
        probs[t, best], probs[t, second] = p_best, p_second
    return probs


def test_decode_ctc_collapses_blanks_and_repeats() -> None:
    charset = ["A", "B", "8", " "]  # class i is charset[i - 1]; class 0 is the blank
    frames = [
        (1, 0.9, 3, 0.05),  # A
        (1, 0.8, 0, 0.1),  # A repeated: collapsed
        (0, 0.9, 1, 0.05),  # blank
        (1, 0.7, 2, 0.2),  # A again after a blank: kept
        (2, 0.6, 3, 0.3),  # B (second best: 8)
        (2, 0.9, 0, 0.05),  # repeated
        (0, 0.95, 2, 0.01),
    ]
    reading = decode_ctc(ctc_probs(frames, 5), charset)
    assert reading.text == "AAB"
    assert reading.score == pytest.approx((0.9 + 0.7 + 0.6) / 3)
    assert [c[0] for c in reading.chars] == ["A", "A", "B"]
    assert reading.chars[0][2:] == ("8", pytest.approx(0.05))
    assert reading.chars[2] == ("B", pytest.approx(0.6), "8", pytest.approx(0.3))


def test_decode_ctc_blank_alternative_and_empty() -> None:
    charset = ["A", "B"]
    reading = decode_ctc(ctc_probs([(2, 0.6, 0, 0.35)], 3), charset)
    assert reading.chars == (("B", pytest.approx(0.6), "", pytest.approx(0.35)),)
    empty = decode_ctc(ctc_probs([(0, 0.9, 1, 0.05)] * 3, 3), charset)
    assert (empty.text, empty.score, empty.chars) == ("", 0.0, ())


def test_decode_ctc_runner_up_matches_a_full_sort() -> None:
    """Each character's runner-up is the class a full sort of its step would give."""
    rng = np.random.default_rng(3)
    probs = rng.random((60, 200)).astype(np.float32)
    probs[::3, 0] = 2.0  # blanks between characters
    reading = decode_ctc(probs, [f"c{i}" for i in range(1, 200)])
    top2 = np.argsort(probs, axis=1)[:, -2:]
    best = np.concatenate([[0], top2[:, 1]])  # (a blank before the first step)
    expected = [(t, best[t + 1], top2[t, 0]) for t in range(60) if best[t + 1] not in (0, best[t])]
    assert [c[0] for c in reading.chars] == [f"c{b}" for _, b, _ in expected]
    assert [c[2] for c in reading.chars] == [f"c{s}" if s else "" for _, _, s in expected]


def test_normalise_into_is_ppocr_bgr_input() -> None:
    """RGB in, BGR (x / 255 - 0.5) / 0.5 out, written into a slice of a padded batch."""
    rgb = np.random.default_rng(4).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    batch = np.zeros((1, 3, 32, 32), np.float32)
    normalise_into(batch[0, :, :20, :30], rgb)
    expected = ((rgb[:, :, ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    np.testing.assert_allclose(batch[0, :, :20, :30], expected, atol=1e-6)
    assert not batch[0, :, 20:, :].any() and not batch[0, :, :, 30:].any()


# --- OCR plate grouping --------------------------------------------------------------------


def line(x1: float, y1: float, x2: float, y2: float, text: str) -> TextLine:
    score = 0.9
    quad = box_quad(x1, y1, x2, y2)
    chars = tuple((ch, score, "", 0.0) for ch in text)
    width, height, _ = line_geometry(quad)
    return TextLine(quad, 0.9, TextReading(text, score, chars), width, height, quad.mean(axis=0))


def texts(groups: list[list[TextLine]]) -> list[list[str]]:
    return sorted([ln.reading.text for ln in g] for g in groups)


def test_group_lines_words_on_one_row_merge() -> None:
    groups = group_lines([line(140, 100, 180, 120, "MX"), line(60, 100, 130, 120, "KA482")])
    assert texts(groups) == [["KA482", "MX"]]  # one group, left to right


def test_group_lines_two_row_plate_top_row_first() -> None:
    bottom = line(100, 130, 200, 155, "CD345")
    top = line(110, 100, 190, 124, "AB12")
    groups = group_lines([bottom, top])
    assert len(groups) == 1
    assert [ln.reading.text for ln in groups[0]] == ["AB12", "CD345"]


def test_group_lines_far_apart_lines_stay_apart() -> None:
    groups = group_lines([line(0, 0, 60, 20, "AB123"), line(300, 200, 360, 220, "CD456")])
    assert texts(groups) == [["AB123"], ["CD456"]]


def test_group_lines_same_row_but_far_and_different_heights() -> None:
    far = [line(0, 0, 60, 20, "AB"), line(200, 0, 260, 20, "CD")]  # gap 7x the height
    assert len(group_lines(far)) == 2
    sizes = [line(0, 0, 60, 20, "AB"), line(65, 0, 125, 60, "CD")]  # 3x taller
    assert len(group_lines(sizes)) == 2


def test_reading_order_rows_then_columns() -> None:
    lines = [
        line(60, 30, 100, 50, "D"),
        line(0, 30, 50, 50, "C"),
        line(60, 0, 100, 20, "B"),
        line(0, 0, 50, 20, "A"),
    ]
    assert [ln.reading.text for ln in reading_order(lines)] == ["A", "B", "C", "D"]


def test_registration_lines_drops_small_city_name() -> None:
    city = line(20, 0, 120, 10, "MUNCHEN")  # a third of the main line's height
    main = line(0, 12, 200, 42, "M AB 1234")
    assert registration_lines([city, main]) == [main]


def test_registration_lines_too_long_keeps_lines_with_digits() -> None:
    words = line(0, 0, 200, 30, "CALIFORNIA")
    number = line(0, 35, 120, 65, "7ABC123")
    assert registration_lines([words, number]) == [number]


def test_registration_lines_a_watermark_under_a_two_row_plate_leaves_both_rows() -> None:
    top, bottom = line(20, 0, 170, 80, "RLG"), line(20, 85, 170, 160, "985")
    watermark = line(0, 170, 330, 228, "gettyimages'")  # no digits, smaller, too long with them
    assert registration_lines([top, bottom, watermark]) == [top, bottom]


@pytest.mark.parametrize(
    ("quad", "image_height", "kept"),
    [
        (box_quad(10, 10, 110, 40), 400, True),
        (box_quad(10, 10, 40, 14), 400, False),  # 4 px text: too small
        (box_quad(10, 10, 300, 160), 400, False),  # more than 35% of the image height
        (box_quad(10, 10, 20, 40), 400, False),  # narrower than tall
        (box_quad(10, 10, 310, 20), 400, False),  # aspect 30
    ],
)
def test_keep_geometry(quad: Quad, image_height: int, kept: bool) -> None:
    assert keep_geometry(TextBox(quad, 0.9), image_height) is kept


def test_keep_geometry_rejects_steep_text() -> None:
    centre, size, angle = (200.0, 200.0), (100.0, 30.0), 60.0
    quad = order_quad(cv2.boxPoints((centre, size, angle)))
    assert not keep_geometry(TextBox(quad, 0.9), 400)
    quad = order_quad(cv2.boxPoints((centre, size, 20.0)))
    assert keep_geometry(TextBox(quad, 0.9), 400)


def test_plate_quad_grows_the_text_quad() -> None:
    text = line(100, 100, 200, 130, "AB123")
    quad = plate_quad([text])
    pad_x, pad_y = PAD_SIDES * 30, PAD_TOP_BOTTOM * 30
    np.testing.assert_allclose(quad, box_quad(100 - pad_x, 100 - pad_y, 200 + pad_x, 130 + pad_y))


def test_plate_quad_of_two_rows_covers_both() -> None:
    top, bottom = line(110, 100, 190, 124, "AB12"), line(100, 130, 200, 155, "CD345")
    got = box_of(plate_quad([top, bottom]))
    assert contains(got, (100, 100, 200, 155))


# --- engine: chunks and merging ------------------------------------------------------------


def test_chunk_spans() -> None:
    assert chunk_spans(1000, 1, 20) == [(0, 1000)]
    spans = chunk_spans(1000, 3, 20)
    assert len(spans) == 3
    assert spans[0][0] == 0 and spans[-1][1] == 1000
    size = 1000 / (3 - 2 * 0.2)
    for (a0, a1), (b0, _) in itertools.pairwise(spans):
        assert a1 - a0 == pytest.approx(size, abs=1)
        assert a1 - b0 == pytest.approx(0.2 * size, abs=1)  # overlap: 20% of a chunk
        assert b0 > a0
    assert chunk_spans(1000, 2, 0) == [(0, 500), (500, 1000)]


def test_detect_split_merges_duplicates_from_chunk_overlaps() -> None:
    image = np.zeros((120, 1000, 3), np.uint8)
    image[40:80, 330:360] = 255  # a face in the overlap of chunks 0 and 1 (308..385)
    image[20:50, 700:730] = 255  # a face inside chunk 2 only (615..1000 and 308..692: no)
    image[90:110, 620:680, 1] = 255  # a plate in the overlap of chunks 1 and 2 (615..692)
    faces = BlobFaces()
    engine = Engine(faces, [ColourPlates("blobs", "AB123")])
    found = engine.detect(
        image, face_options=FaceOptions(), plate_options=PlateOptions(), split=3, overlap=20
    )
    assert len(faces.widths) == 3 and max(faces.widths) < 1000
    assert sorted(f.box for f in found.faces) == [(330, 40, 360, 80), (700, 20, 730, 50)]
    assert len(found.plates) == 1
    assert found.plates[0].box == (620, 90, 680, 110)
    assert found.plates[0].text == "AB123"
    assert set(found.timings) == {"faces_ms", "plates_ms"}


def test_detect_split_keeps_the_whole_face_cut_by_a_chunk_edge() -> None:
    image = np.zeros((100, 1000, 3), np.uint8)
    image[30:70, 370:400] = 255  # chunk 0 ends at 385: it sees only part of the face
    found = Engine(BlobFaces(), []).detect(image, face_options=FaceOptions(), split=3)
    assert [f.box for f in found.faces] == [(370, 30, 400, 70)]


def test_detect_with_the_fakes() -> None:
    face = FakeFaceDetector([(10, 10, 50, 50)])
    quad = [(60.0, 60.0), (120.0, 60.0), (120.0, 80.0), (60.0, 80.0)]
    plates = FakePlateDetector([(quad, "XY12")])
    engine = Engine(face, [plates])
    image = np.zeros((100, 200, 3), np.uint8)
    found = engine.detect(image, face_options=FaceOptions(threshold=0.3))
    assert [f.box for f in found.faces] == [(10, 10, 50, 50)]
    assert found.plates == [] and plates.calls == []  # no plate options: no plate detection
    assert face.calls == [FaceOptions(threshold=0.3)]
    found = engine.detect(image, plate_options=PlateOptions(mode="fast"))
    assert len(face.calls) == 1
    assert [p.text for p in found.plates] == ["XY12"]
    assert engine.describe() == {"faces": "fake-faces", "plates": ["fake-plates"]}


def test_merge_faces_keeps_the_best() -> None:
    a = FaceDetection((0, 0, 10, 10), (0, 0, 10, 10), 0.5)
    b = FaceDetection((1, 1, 10, 10), (1, 1, 10, 10), 0.9)
    c = FaceDetection((50, 50, 60, 60), (50, 50, 60, 60), 0.4)
    assert merge_faces([a, b, c]) == [b, c]


def test_merge_plates_unites_two_sources() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 50:150, 1] = 255
    engine = Engine(None, [ColourPlates("tight", "AB123"), ColourPlates("wide", "AB123", grow=0.2)])
    found = engine.detect(image, plate_options=PlateOptions())
    assert len(found.plates) == 1
    plate = found.plates[0]
    assert plate.source == "tight+wide"
    assert contains(plate.box, (30, 36, 170, 64))  # the wide source's box
    assert contains(box_of(plate.polygon), (30, 36, 170, 64), slack=0.5)


def test_merge_plates_keeps_separate_plates_and_best_reading() -> None:
    def plate(
        box: tuple[float, float, float, float], text: str, d: float, o: float
    ) -> PlateDetection:
        quad = box_quad(*box)
        return PlateDetection(as_quad(quad), box, text, d, o, ((text, o),), text.lower())

    a = plate((0, 0, 100, 20), "AAA", 0.9, 0.3)
    b = plate((10, 2, 110, 22), "BBB", 0.6, 0.9)
    c = plate((300, 0, 400, 20), "CCC", 0.5, 0.5)
    merged = merge_plates([a, b, c])
    assert len(merged) == 2
    united = next(p for p in merged if p.text != "CCC")
    assert united.text == "BBB"  # dscore x oscore: 0.54 beats 0.27
    assert united.dscore == 0.9
    assert united.box == (0, 0, 110, 22)
    assert united.source == "aaa+bbb"


def test_registry_unknown_name_is_a_config_error(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"'nope'.*centerface"):
        detectors.create("face", "nope", finder_config(settings))
    with pytest.raises(ConfigError, match="yolo"):
        detectors.create("plate", "yolo", finder_config(settings))


class _RawPlateSource(PlateFinder):
    """A Snapshot-like source: one plate at a fixed place in every chunk, with raw boxes that
    it shifts itself, as the Snapshot client does."""

    name = "raw"

    def shift(self, plate: PlateDetection, dx: float) -> PlateDetection:
        return dataclasses.replace(super().shift(plate, dx), raw=shift_raw(plate.raw, dx))

    def detect(self, image: np.ndarray, options: PlateOptions) -> list[PlateDetection]:
        quad = [(10.0, 10.0), (50.0, 10.0), (50.0, 30.0), (10.0, 30.0)]
        raw = {
            "box": {"xmin": 10, "ymin": 10, "xmax": 50, "ymax": 30},
            "vehicle": {
                "score": 0.9,
                "type": "Sedan",
                "box": {"xmin": 5, "ymin": 5, "xmax": 60, "ymax": 40},
            },
        }
        return [PlateDetection(as_quad(quad), box_of(quad), "AB123", 0.9, 0.9, raw=raw)]


def test_split_shifts_upstream_boxes_into_image_coordinates() -> None:
    engine = Engine(None, [_RawPlateSource()])
    found = engine.detect(np.zeros((100, 400, 3), np.uint8), plate_options=PlateOptions(), split=2)
    xmins = sorted(p.raw["box"]["xmin"] for p in found.plates if p.raw)
    x0 = chunk_spans(400, 2, 20.0)[1][0]
    assert xmins == [10, 10 + x0]
    shifted = next(p for p in found.plates if p.raw and p.raw["box"]["xmin"] > 10)
    assert shifted.raw["vehicle"]["box"]["xmin"] == 5 + x0
    assert shifted.box[0] == pytest.approx(10 + x0)
