"""The try-it page in a real browser: headless Chromium loads it from `python -m blur_sdk serve`,
picks a fixture photo with the page's file input, and the page shows what the server found."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.procutil import Server
from bench.synthetic import FACE_BOX, PLATE_QUAD
from blur_sdk.settings import Settings
from tests.web import browser

pytestmark = [pytest.mark.process, pytest.mark.models]

PLATE_BOX = tuple(int(v) for v in (*PLATE_QUAD.min(axis=0), *PLATE_QUAD.max(axis=0)))
BACKGROUND = (20, 250, 120, 330)  # away from the face and the plate: kept as it was


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, models_installed: Settings
) -> Iterator[Server]:
    missing = browser.browser_missing()
    if missing:
        pytest.skip(missing)
    with browser.demo_server(tmp_path_factory.mktemp("web")) as started:
        yield started


@pytest.fixture(scope="module")
def driver(server: Server) -> Iterator[Any]:
    with browser.chromium() as started:
        yield started


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic scene: the astronaut's face at FACE_BOX, plate KA 482 MX at PLATE_QUAD."""
    (path,) = browser.fixture_photos(tmp_path_factory.mktemp("photo"))
    return path


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def change(before: np.ndarray, after: np.ndarray, box: tuple[float, ...]) -> float:
    """Mean absolute difference of the two images inside box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    return float(np.abs(before[y0:y1, x0:x1] - after[y0:y1, x0:x1]).mean())


def test_the_page_blurs_a_photo_and_lists_what_it_found(
    server: Server, driver: Any, photo: Path, tmp_path: Path
) -> None:
    browser.open_page(driver, server.url + "/")  # a browser's GET / gets the page
    browser.upload(driver, [photo])
    assert browser.wait_result(driver) == "done", driver.find_element("id", "error").text
    data, width = browser.result_image(driver)
    before, after = rgb(photo.read_bytes()), rgb(data)
    assert width == before.shape[1] and after.shape == before.shape
    assert change(before, after, FACE_BOX) > 10  # the face is blurred
    assert change(before, after, PLATE_BOX) > 10  # and the plate
    assert change(before, after, BACKGROUND) < 4  # the rest only re-encoded
    rows = browser.detection_rows(driver)
    kinds = [row[1] for row in rows]
    assert kinds.count("Face") == 1 and kinds.count("Plate") == 1, rows
    plate = rows[kinds.index("Plate")]
    assert plate[3].replace(" ", "").upper().startswith("KA482MX"), plate
    assert 0 < float(plate[2].split()[0]) <= 1
    download = driver.find_element("id", "download")
    assert download.get_attribute("download") == "astronaut-car.jpg"
    assert download.get_attribute("href").startswith("blob:")
    shots = browser.save_screenshots(driver, tmp_path / "shots")
    assert all(p.stat().st_size > 10_000 for p in shots.values())
    browser.set_viewport(driver, browser.PHONE, mobile=True)
    assert browser.overflow_x(driver) <= 0  # the phone layout needs no sideways scrolling
    browser.set_viewport(driver, browser.DESKTOP, mobile=False)


def test_the_brush_paints_the_smear_for_watermark_removal(
    server: Server, driver: Any, photo: Path
) -> None:
    driver.find_element("css selector", '#tools button[data-api="kaze"]').click()
    x0, y0, x1, y1 = PLATE_BOX  # the photo of the previous test, still shown
    middle = (y0 + y1) / 2
    browser.paint(driver, [(x0 + 10, middle), ((x0 + x1) / 2, middle), (x1 - 10, middle)], 30)
    assert (
        driver.execute_script(
            "const c = document.getElementById('mask'); const d = c.getContext('2d')"
            f".getImageData({(x0 + x1) // 2}, {int(middle)}, 1, 1).data; return d[3];"
        )
        > 0
    )  # the stroke is on the mask canvas
    driver.find_element("id", "run-kaze").click()
    assert browser.wait_result(driver) == "done", driver.find_element("id", "error").text
    data, _ = browser.result_image(driver)
    summary = driver.find_element("id", "summary").text
    assert "Painted mask" in summary, summary
    before, after = rgb(photo.read_bytes()), rgb(data)
    assert after.shape == before.shape
    stroke = (x0 + 12, int(middle) - 6, x1 - 12, int(middle) + 6)
    assert change(before, after, stroke) > 10  # the painted part of the plate is inpainted
    assert change(before, after, FACE_BOX) < 4  # the face was not painted: left as it was
