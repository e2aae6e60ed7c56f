"""Headless Chromium (Debian's chromium + chromium-driver, through selenium) on the try-it page
of a real server process, and the screenshot helper for the README.

`python -m tests.web.browser [DIR]` starts `python -m blur_sdk serve` (Blur and Kaze), uploads
two fixture photos and saves DIR/screenshot-desktop.png (1280x900) and
DIR/screenshot-phone.png (390x844); DIR defaults to docs/.
"""

from __future__ import annotations

import base64
import io
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageOps

from bench.procutil import PROJECT_ROOT, Server, free_port, running_server
from bench.synthetic import encode, scene_with_plate
from tests.clients import process_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1280, 900)
PHONE = (390, 844)
RESULT_TIMEOUT = 120.0
MAX_PNG_BYTES = 390_000  # the README's images stay small
READ_RESULT = """
const img = document.getElementById("result-image");
if (!img.complete || !img.naturalWidth) return {error: "the result image is not shown"};
const canvas = document.createElement("canvas");
canvas.width = img.naturalWidth;
canvas.height = img.naturalHeight;
canvas.getContext("2d").drawImage(img, 0, 0);
return {data: canvas.toDataURL("image/png"), width: img.naturalWidth};
"""
PAINT = """
const [points, width] = arguments;
const canvas = document.getElementById("mask");
const rect = canvas.getBoundingClientRect();
const scale = rect.width / canvas.width;
const fire = (type, [x, y]) => canvas.dispatchEvent(new PointerEvent(type, {
  bubbles: true, pointerId: 1, isPrimary: true, buttons: 1,
  clientX: rect.left + x * scale, clientY: rect.top + y * scale}));
document.getElementById("brush").value = String(Math.round(width * scale));
fire("pointerdown", points[0]);
for (const p of points.slice(1)) fire("pointermove", p);
fire("pointerup", points[points.length - 1]);
"""


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@contextmanager
def chromium(size: tuple[int, int] = DESKTOP) -> Iterator[Any]:
    """A headless Chromium window of this size, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
                     f"--window-size={size[0]},{size[1]}"):  # fmt: skip
        options.add_argument(argument)
    profile = tempfile.mkdtemp(prefix="chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        set_viewport(driver, size, mobile=False)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: Any, size: tuple[int, int], *, mobile: bool) -> None:
    """Emulate a viewport of exactly this size (a phone's with mobile=True)."""
    metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


@contextmanager
def demo_server(base: Path) -> Iterator[Server]:
    """`python -m blur_sdk serve` with the page's two tools (Blur and Kaze) on a free port."""
    port = free_port()
    env = process_env(base, APIS="blur,kaze", WORKERS="1", THREADS="4", TASK_WORKERS="1")
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    with running_server(cmd, port, env, timeout=180.0) as server:
        yield server


def fixture_photos(folder: Path, count: int = 1) -> list[Path]:
    """The synthetic scene (astronaut face + plate KA 482 MX) as JPEG; more with other plates."""
    texts = ["KA 482 MX", "BX 17 RTE", "HM 905 LC"][:count]
    paths = []
    for i, text in enumerate(texts):
        path = folder / (f"street-{i + 1}.jpg" if i else "astronaut-car.jpg")
        path.write_bytes(encode(scene_with_plate(text), "JPEG", quality=92))
        paths.append(path)
    return paths


def open_page(driver: Any, url: str) -> None:
    """Load the page as a browser navigation (Accept: text/html) and wait for its script."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.tool || ''")
    )


def upload(driver: Any, paths: Sequence[Path]) -> None:
    """Pick files with the page's <input type="file">, as a user would."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "file-input").send_keys("\n".join(str(p) for p in paths))


def wait_result(driver: Any, timeout: float = RESULT_TIMEOUT) -> str:
    """Wait until the shown image is processed; its status ('done' or 'error')."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = "return document.getElementById('viewer').dataset.status"
    WebDriverWait(driver, timeout, poll_frequency=0.25).until(
        lambda d: d.execute_script(script) in ("done", "error")
    )
    status: str = driver.execute_script(script)
    return status


def wait_all(driver: Any, timeout: float = RESULT_TIMEOUT) -> None:
    """Wait until every thumbnail in the strip is processed."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = """return [...document.querySelectorAll('.thumb')]
        .every((t) => ['done', 'error'].includes(t.dataset.status))"""
    WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: d.execute_script(script))


def result_image(driver: Any) -> tuple[bytes, int]:
    """The pixels of the result image the page shows (as PNG, read through a canvas), and its
    naturalWidth."""
    answer = driver.execute_script(READ_RESULT)
    assert "error" not in answer, answer
    return base64.b64decode(answer["data"].split(",", 1)[1]), int(answer["width"])


def detection_rows(driver: Any) -> list[list[str]]:
    """The detections table's rows, cell texts as rendered."""
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#detections tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def paint(driver: Any, points: Sequence[tuple[float, float]], width: float) -> None:
    """Drag the brush along points (image pixels) with a brush this wide (image pixels)."""
    driver.execute_script(PAINT, [list(p) for p in points], width)


def overflow_x(driver: Any) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scrolling)."""
    value: int = driver.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    return value


def write_png(path: Path, png: bytes, limit: int = MAX_PNG_BYTES) -> None:
    """Save a screenshot; one over limit loses low bits of colour (6, then 5 bits a channel),
    which keeps it truecolour and sharp yet compresses photos far better."""
    for bits in (8, 6, 5):
        image = Image.open(io.BytesIO(png)).convert("RGB")
        if bits < 8:
            image = ImageOps.posterize(image, bits)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        if out.tell() <= limit:
            break
    path.write_bytes(out.getvalue())


def save_screenshots(driver: Any, folder: Path) -> dict[str, Path]:
    """The page as it is now at desktop and phone widths, as PNGs in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = {}
    for name, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
        set_viewport(driver, size, mobile=mobile)
        driver.execute_script("window.scrollTo(0, 0); window.dispatchEvent(new Event('resize'))")
        time.sleep(0.4)  # layout and the overlay redraw
        path = folder / f"screenshot-{name}.png"
        write_png(path, base64.b64decode(driver.get_screenshot_as_base64()))
        shots[name] = path
    set_viewport(driver, DESKTOP, mobile=False)
    return shots


def warm_up(server: Server, photo: Path) -> None:
    """One Blur call first, so that the times the page shows are a warm server's."""
    files = {"upload": (photo.name, photo.read_bytes(), "image/jpeg")}
    requests.post(server.url + "/", files=files, data={"faces": 8, "plates": 8}, timeout=120)


def main(argv: list[str]) -> int:
    """Make the README's screenshots from a real server and a real browser."""
    missing = browser_missing()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    out = Path(argv[0]) if argv else PROJECT_ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        photos = fixture_photos(base, 3)
        with demo_server(base) as server, chromium() as driver:
            warm_up(server, photos[0])
            open_page(driver, server.url + "/")
            upload(driver, photos)
            wait_all(driver)
            driver.find_elements("css selector", ".thumb")[0].click()
            for name, path in save_screenshots(driver, out).items():
                print(f"{name}: {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
