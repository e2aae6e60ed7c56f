"""Tests for blur_sdk.core.redact.blur: plate / face blur, logo covers, logo decoding."""

from __future__ import annotations

import functools
import itertools

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from bench.synthetic import rotated_quad, save
from blur_sdk.core.redact import Redaction, redact
from blur_sdk.core.redact.blur import STYLES, blur_faces, blur_plates, grown_plate
from blur_sdk.core.redact.filters import strong_blur
from blur_sdk.core.redact.logo import MAX_LOGO_SIDE, cover_with_logo, load_logo
from blur_sdk.core.regions import FACE, PLATE, Region
from blur_sdk.errors import InputError

Img = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]


def plate_scene(ph: int, seed: int = 0) -> tuple[Img, Quad]:
    """Noisy background with a white plate (ph px tall, 4*ph wide) with black text on it."""
    img, quad = _plate_scene(ph, seed)
    return img.copy(), quad.copy()


@functools.lru_cache(maxsize=4)
def _plate_scene(ph: int, seed: int) -> tuple[Img, Quad]:
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 200, (ph * 5, ph * 10, 3), dtype=np.uint8)
    x0, y0, x1, y1 = ph * 3, ph * 2, ph * 7, ph * 3
    img[y0:y1, x0:x1] = 255
    org = (x0 + ph // 8, y1 - ph // 5)
    cv2.putText(img, "AB12CD", org, cv2.FONT_HERSHEY_SIMPLEX, ph / 36, (0, 0, 0), max(1, ph // 14))
    return img, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def detail(region: Img, size: float) -> float:
    """Energy of detail finer than about a tenth of the region size (strokes, characters)."""
    g = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.var(g - cv2.GaussianBlur(g, (0, 0), 0.1 * size)))


def far_outside(
    shape: tuple[int, ...], quad: Quad, grow: float, reach: int
) -> npt.NDArray[np.bool_]:
    """Pixels farther than `reach` px from the plate area render hides for `grow`."""
    grown = grown_plate(np.asarray(quad, dtype=np.float64), grow)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.rint(grown).astype(np.int32)], 255)
    mask = cv2.dilate(mask, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    return mask == 0


def test_blur_plates_changes_inside_only() -> None:
    img, quad = plate_scene(40)
    before = img.copy()
    out = blur_plates(img, [quad], 5)
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(img, before)  # input untouched
    x0, y0, x1, y1 = quad[0, 0], quad[0, 1], quad[2, 0], quad[2, 1]
    inside = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
    assert np.abs(out[inside].astype(int) - img[inside]).mean() > 10
    far = far_outside(img.shape, quad, 0.1, reach=int(0.1 * 40) + 3)
    np.testing.assert_array_equal(out[far], img[far])


def test_intensity_10_destroys_text_and_is_monotonic() -> None:
    img, quad = plate_scene(40)
    x0, y0, x1, y1 = (int(v) for v in (*quad[0], *quad[2]))
    base = detail(img[y0:y1, x0:x1], 40)
    ratios = []
    for intensity in range(1, 11):
        out = blur_plates(img, [quad], intensity)
        ratios.append(detail(out[y0:y1, x0:x1], 40) / base)
    assert ratios[-1] < 0.002
    assert ratios[0] > 10 * ratios[-1]
    assert all(a >= b for a, b in itertools.pairwise(ratios))
    out10 = blur_plates(img, [quad], 10)
    assert out10[y0:y1, x0:x1].std() < 0.25 * img[y0:y1, x0:x1].std()


@pytest.mark.parametrize("sigma", [60.0, 150.0])
def test_a_large_blur_follows_a_full_gaussian(sigma: float) -> None:
    # computed on a downscaled crop averaged from every few pixels: within ~2 grey levels
    img = np.random.default_rng(0).integers(60, 200, (600, 1200, 3), np.uint8)
    cv2.putText(img, "AB12CD", (50, 400), cv2.FONT_HERSHEY_SIMPLEX, 12, (0, 0, 0), 30)
    exact = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    diff = np.abs(strong_blur(img, sigma).astype(int) - exact)
    assert diff.mean() < 2.5
    assert np.percentile(diff, 99) <= 12


@pytest.mark.parametrize("intensity", [1, 5, 10])
def test_blur_scales_with_plate_size(intensity: int) -> None:
    results = []
    for ph in (40, 400):
        img, quad = plate_scene(ph)
        x0, y0, x1, y1 = (int(v) for v in (*quad[0], *quad[2]))
        out = blur_plates(img, [quad], intensity)
        results.append(detail(out[y0:y1, x0:x1], ph) / detail(img[y0:y1, x0:x1], ph))
    small, large = results
    assert abs(small - large) < 0.3 * max(small, large) + 1e-4


def test_blur_plates_validation_and_clipping() -> None:
    img, quad = plate_scene(40)
    for bad in (0, 11, -1):
        with pytest.raises(ValueError):
            blur_plates(img, [quad], bad)
    half_out = quad + np.array([img.shape[1] - quad[1, 0] + 60, 0.0])  # right part beyond the image
    fully_out = quad + np.array([10_000.0, 10_000.0])
    degenerate = np.array([[10, 10], [50, 10], [50, 10], [10, 10]], dtype=np.float64)
    nan = np.full((4, 2), np.nan)
    out = blur_plates(img, [half_out, fully_out, degenerate, nan], 10)
    assert out.shape == img.shape
    x = int(half_out[0, 0]) + 5
    assert np.abs(out[85:115, x:].astype(int) - img[85:115, x:]).mean() > 5
    far = far_outside(img.shape, half_out, 0.1, reach=8)
    np.testing.assert_array_equal(out[far], img[far])
    np.testing.assert_array_equal(blur_plates(img, [degenerate, nan, fully_out], 10), img)


def test_faces_shapes() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    box = (140.0, 120.0, 260.0, 180.0)  # 120 x 60
    ell = blur_faces(img, [box], 8, shape="ellipse")
    sq = blur_faces(img, [box], 8, shape="square")
    circ = blur_faces(img, [box], 8, shape="circle")
    corner = (slice(121, 125), slice(141, 145))
    np.testing.assert_array_equal(ell[corner], img[corner])  # an ellipse leaves box corners
    assert np.abs(sq[corner].astype(int) - img[corner]).mean() > 10
    centre = (slice(145, 155), slice(195, 205))
    for out in (ell, sq, circ):
        assert np.abs(out[centre].astype(int) - img[centre]).mean() > 10
    above = (slice(100, 104), slice(198, 202))  # 46-50 px above centre: inside the circle only
    assert np.abs(circ[above].astype(int) - img[above]).mean() > 10
    np.testing.assert_array_equal(ell[above], img[above])
    np.testing.assert_array_equal(sq[above], img[above])
    np.testing.assert_array_equal(ell[:90], img[:90])
    big = blur_faces(img, [box], 8, scale=1.5)
    assert np.abs(big[above].astype(int) - img[above]).mean() > 10
    with pytest.raises(ValueError):
        blur_faces(img, [box], 5, shape="star")
    np.testing.assert_array_equal(blur_faces(img, [(10, 10, 10, 50)], 5), img)


def test_logo_on_rotated_polygon() -> None:
    img, _ = plate_scene(40)
    quad = rotated_quad((200.0, 100.0), 160, 40, 12)
    logo = np.zeros((20, 80, 4), np.uint8)
    logo[...] = (255, 0, 0, 255)
    out = cover_with_logo(img, [quad], logo)
    cx, cy = 200, 100
    r, g, b = (int(v) for v in out[cy, cx])
    assert r > 200 and g < 40 and b < 40
    far = far_outside(img.shape, quad, 0.1, reach=8)
    np.testing.assert_array_equal(out[far], img[far])
    assert out.shape == img.shape and out.dtype == np.uint8


def test_logo_keeps_aspect_and_padding_is_blurred() -> None:
    img, quad = plate_scene(100)  # plate 400 x 100
    square = np.array([[400, 150], [500, 150], [500, 250], [400, 250]], dtype=np.float64)
    logo = np.zeros((10, 40, 3), np.uint8)
    logo[...] = (255, 0, 0)  # opaque 4:1 logo on a square polygon
    out = cover_with_logo(img, [square], logo)
    assert tuple(out[200, 450]) == (255, 0, 0)
    top_pad = out[155:180, 410:490].astype(int)
    assert not ((top_pad[..., 0] > 200) & (top_pad[..., 1] < 40)).any()  # not stretched
    blurred = blur_plates(img, [square], 10)
    np.testing.assert_array_equal(out[155:180, 410:490], blurred[155:180, 410:490])
    transparent = np.zeros((10, 10, 4), np.uint8)
    np.testing.assert_array_equal(
        cover_with_logo(img, [quad], transparent), blur_plates(img, [quad], 10)
    )


def png_bytes(w: int, h: int, mode: str = "RGBA") -> bytes:
    return save(
        Image.new(mode, (w, h), (10, 20, 30, 40) if mode == "RGBA" else (10, 20, 30)), "PNG"
    )


def test_load_logo() -> None:
    rgba = load_logo(png_bytes(30, 10))
    assert rgba.shape == (10, 30, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 0]) == (10, 20, 30, 40)
    rgb = load_logo(png_bytes(5, 7, "RGB"))
    assert rgb.shape == (7, 5, 4) and tuple(rgb[0, 0]) == (10, 20, 30, 255)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", png_bytes(30, 10)[:40], png_bytes(MAX_LOGO_SIDE + 1, 2)],
)
def test_load_logo_errors(data: bytes) -> None:
    with pytest.raises(InputError) as info:
        load_logo(data)
    assert info.value.field == "logo"


# --- hidden at every intensity, whatever the size; styles --------------------------------


def edge_left(before: Img, after: Img) -> float:
    """Mean |Laplacian| of the output over that of the input (bench/measures' hidden measure)."""
    lap = [np.abs(cv2.Laplacian(cv2.cvtColor(i, cv2.COLOR_RGB2GRAY), cv2.CV_32F)).mean()
           for i in (before, after)]  # fmt: skip
    return float(lap[1] / lap[0])


@pytest.mark.parametrize("ph", [12, 40, 200])
@pytest.mark.parametrize("style", STYLES)
def test_intensity_1_already_hides_a_plate_of_any_size(ph: int, style: str) -> None:
    img, quad = plate_scene(ph)
    x0, y0, x1, y1 = (int(v) for v in (*quad[0], *quad[2]))
    out = blur_plates(img, [quad], 1, 0.1, style)
    assert edge_left(img[y0:y1, x0:x1], out[y0:y1, x0:x1]) <= 0.35


@pytest.mark.parametrize("side", [10, 30, 160])
@pytest.mark.parametrize("style", STYLES)
def test_intensity_1_already_hides_a_face_of_any_size(side: int, style: str) -> None:
    rng = np.random.default_rng(side)
    img = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    box = (100.0, 100.0, 100.0 + side, 100.0 + side * 1.25)
    out = blur_faces(img, [box], 1, "square", style=style)
    inside = (slice(100, 100 + round(side * 1.25)), slice(100, 100 + side))
    assert edge_left(img[inside], out[inside]) <= 0.35


def test_no_soft_edge_inside_the_region() -> None:
    img = np.zeros((200, 300, 3), np.uint8)
    img[:, ::2] = 255  # stripes: any source pixel left shows
    box = (100.0, 60.0, 180.0, 140.0)
    filled = blur_faces(img, [box], 5, "square", style="fill")
    region = filled[61:139, 101:179].reshape(-1, 3)
    assert (region == region[0]).all()  # one colour to the very edge of the region
    assert abs(int(region[0, 0]) - 127) <= 2  # the region's own mean
    np.testing.assert_array_equal(filled[:40], img[:40])  # outside: untouched


def test_pixelate_draws_blocks_scaled_to_the_object() -> None:
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    out = blur_faces(img, [(50.0, 50.0, 250.0, 250.0)], 1, "square", style="pixelate")
    inside = out[60:240, 60:240].astype(int)
    distinct = len(np.unique(inside.reshape(-1, 3), axis=0))
    assert 4 <= distinct <= 64  # a few big cells, not noise and not one flat colour


def test_unknown_style_is_refused() -> None:
    img, quad = plate_scene(40)
    with pytest.raises(ValueError, match="style"):
        blur_plates(img, [quad], 5, 0.1, "swirl")
    with pytest.raises(ValueError, match="style"):
        blur_faces(img, [], 5, style="swirl")


def test_logo_size_leaves_the_rest_of_the_plate_blurred() -> None:
    img, _ = plate_scene(100)  # plate 400 x 100
    square = np.array([[400, 150], [600, 150], [600, 250], [400, 250]], dtype=np.float64)
    logo = np.zeros((10, 20, 4), np.uint8)
    logo[...] = (255, 0, 0, 255)  # opaque 2:1 logo on a 2:1 polygon
    full = cover_with_logo(img, [square], logo)
    half = cover_with_logo(img, [square], logo, logo_size=0.5)
    red = lambda out: ((out[..., 0] > 200) & (out[..., 1] < 40)).sum()  # noqa: E731
    assert red(half) == pytest.approx(red(full) / 4, rel=0.1)  # half of each side
    assert tuple(half[200, 500]) == (255, 0, 0)  # centred
    blurred = blur_plates(img, [square], 10)
    np.testing.assert_array_equal(half[155:170, 405:595], blurred[155:170, 405:595])


def test_plate_screws_are_drawn_on_the_logo_plate() -> None:
    img, _ = plate_scene(100)
    square = np.array([[400, 150], [600, 150], [600, 250], [400, 250]], dtype=np.float64)
    logo = np.zeros((10, 20, 4), np.uint8)
    logo[...] = (255, 0, 0, 255)
    plain = cover_with_logo(img, [square], logo)
    screwed = cover_with_logo(img, [square], logo, screws=True)
    for x in (418, 582):  # 9 % in from each side, at mid-height
        assert tuple(plain[200, x]) == (255, 0, 0)
        r, g, b = (int(v) for v in screwed[200, x])
        assert abs(r - g) < 40 and abs(g - b) < 40  # grey steel, not the red logo
    np.testing.assert_array_equal(plain[200, 480:520], screwed[200, 480:520])  # logo untouched


def test_a_logo_size_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="logo_size"):
        Redaction("logo", 10, logo_size=0.05)


@pytest.mark.parametrize("method", [*STYLES, "logo", "inpaint"])
def test_in_place_writes_over_the_image_the_same_pixels_a_copy_gets(method: str) -> None:
    img, quad = plate_scene(24)
    plate = Region(PLATE, tuple(map(tuple, quad)), (72.0, 48.0, 168.0, 72.0), 0.9)
    face = Region(FACE, (), (10.0, 10.0, 50.0, 60.0), 0.9, "ellipse")
    logo = load_logo(save(Image.new("RGB", (40, 20), (200, 30, 30)), "PNG"))
    redaction = Redaction(method, margin=0.1, logo=logo)
    regions = [plate, face]
    copied = redact(img, regions, redaction)
    assert not np.shares_memory(copied, img)
    np.testing.assert_array_equal(img, plate_scene(24)[0])  # the input untouched
    written = redact(img, regions, redaction, in_place=True)
    np.testing.assert_array_equal(written, copied)
    assert written is img
