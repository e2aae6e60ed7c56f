"""The watermark finder on rendered marks (real PP-OCR models): found, read, nothing on clean."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import watermark_synth as ws
from blur_sdk.core.models.runner import RunnerConfig
from blur_sdk.core.regions import MASK, TEXT
from blur_sdk.core.watermark.finder import (
    TextMark,
    WatermarkFinder,
    WatermarkFinding,
    WatermarkOptions,
)
from blur_sdk.settings import Settings
from tests.core.watermark import skip_without_cjk_font

pytestmark = pytest.mark.models
FAST = WatermarkOptions(passes=("rgb", "clahe"))


@pytest.fixture(scope="module")
def finder(models_installed: Settings) -> WatermarkFinder:
    return WatermarkFinder.create(RunnerConfig(models_installed.models_dir))


def _cover(finding: WatermarkFinding, truth: np.ndarray) -> float:
    return float((finding.mask[truth > 0] > 0).mean())


def _marked(
    text: str, angle: float = 0.0, seed: int = 1, **kw: object
) -> tuple[np.ndarray, np.ndarray]:
    skip_without_cjk_font(text)
    clean = ws.background(640, 480, seed=seed)
    marked, truth, _ = ws.add_text(clean, random.Random(seed), text=text, angle=angle, **kw)  # type: ignore[arg-type]
    return marked, truth


def test_a_faint_latin_watermark_is_found_and_read(finder: WatermarkFinder) -> None:
    marked, truth = _marked("Copyright", px=40, alpha=0.35, colour=(255, 255, 255))
    finding = finder.find(marked, WatermarkOptions(read=True, passes=FAST.passes))
    assert _cover(finding, truth) >= 0.9
    assert any("Copyright" in t.text for t in finding.texts)
    assert all(isinstance(t, TextMark) and t.quad.shape == (4, 2) for t in finding.texts)
    assert [r.kind for r in finding.regions].count(TEXT) == len(finding.texts)
    assert (finding.mask > 0).sum() < 4 * (truth > 0).sum()  # strokes, not boxes


def test_a_chinese_watermark_is_found_and_read(finder: WatermarkFinder) -> None:
    marked, truth = _marked("版权所有", px=44, alpha=0.5, colour=(0, 0, 0), seed=2)
    finding = finder.find(marked, WatermarkOptions(read=True, passes=FAST.passes))
    assert _cover(finding, truth) >= 0.8
    assert any("版权" in t.text for t in finding.texts)


def test_a_rotated_watermark_is_found(finder: WatermarkFinder) -> None:
    marked, truth = _marked("@studio_photo", angle=30.0, px=36, alpha=0.5, colour=(255, 255, 255))
    # the detector part: on this smooth background the overlay test cannot tell (it is left out)
    every = WatermarkOptions(passes=FAST.passes, overlay_only=False)
    assert _cover(finder.find(marked, every), truth) >= 0.8


def _sign() -> tuple[np.ndarray, np.ndarray]:
    """Opaque dark text on a light plate in a busy scene: scene text, not a watermark."""
    rng = np.random.default_rng(5)
    base = ws.background(640, 480, seed=5).astype(np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 2000, (480, 640)).astype(np.float32), (0, 0), 40.0)
    scene = Image.fromarray(np.clip(base + grain[:, :, None], 0, 255).astype(np.uint8))
    ImageDraw.Draw(scene).rectangle((180, 200, 460, 264), fill=(235, 235, 230), outline=(20,) * 3)
    layer = ws.text_layer("AB 123 CD", "bold", 40, (10, 10, 10), outline=0, angle=0.0)
    return ws.composite(np.asarray(scene).copy(), layer, 200, 208, 1.0)


def test_scene_text_is_left_alone_unless_asked(finder: WatermarkFinder) -> None:
    sign, truth = _sign()
    assert WatermarkOptions().overlays and not WatermarkOptions(read=True).overlays
    assert _cover(finder.find(sign, FAST), truth) < 0.2  # removal: not a watermark
    every = finder.find(sign, WatermarkOptions(passes=FAST.passes, overlay_only=False))
    assert _cover(every, truth) >= 0.8
    assert finder.find(sign, WatermarkOptions(read=True, logos=False)).texts  # OCR: every block


def test_a_45_degree_watermark_is_found_with_the_turned_passes(finder: WatermarkFinder) -> None:
    marked, truth = _marked("SAMPLE", angle=45.0, px=40, alpha=0.5, colour=(255, 255, 255), seed=3)
    turned = WatermarkOptions(passes=("rgb", "rot45", "rot-45"))
    assert _cover(finder.find(marked, turned), truth) >= 0.8


def test_a_corner_logo_is_found(finder: WatermarkFinder) -> None:
    clean = ws.background(640, 480, seed=4)
    layer = ws.logo_layer("PHOTO", 26, (255, 255, 255), "disc")
    marked, truth = ws.composite(clean, layer, 640 - layer.width - 20, 480 - layer.height - 20, 0.5)
    finding = finder.find(marked, FAST)
    assert len(finding.logos) == 1
    assert [r.kind for r in finding.regions].count(MASK) == 1
    assert _cover(finding, truth) >= 0.9


def test_nothing_on_clean_images_and_gradients(finder: WatermarkFinder) -> None:
    ramp = np.repeat(np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], 480, 0)
    for image in (ws.background(640, 480, seed=5), np.repeat(ramp, 3, 2)):
        finding = finder.find(np.ascontiguousarray(image), FAST)
        assert finding.empty and not finding.mask.any() and finding.regions == []


def test_options_switch_finders_off(finder: WatermarkFinder) -> None:
    marked, _ = _marked("Copyright", px=40, alpha=0.5, colour=(255, 255, 255))
    finding = finder.find(marked, WatermarkOptions(text=False, logos=False))
    assert finding.empty and not finding.mask.any()


def test_concurrent_calls_agree(finder: WatermarkFinder) -> None:
    images = [_marked("Preview only", px=34, seed=s, alpha=0.5)[0] for s in (6, 7)]
    alone = [finder.find(im, FAST).mask for im in images]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda im: finder.find(im, FAST).mask, images * 2))
    for i, mask in enumerate(together):
        assert np.array_equal(mask, alone[i % 2])
