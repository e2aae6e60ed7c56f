"""Plate-reading accuracy: exact text match (top-1 and top-k) on labelled sets that have text.

Usage: python bench/plate_reading.py [--mode redaction|fast] [--count 50] [--seed 7] [--no-ccpd]
       [--crops N] [--only SETS] [--seeds 7,8,9: the crop sets placed with each, and the mean]
Sets: ../shared/data/plates/ccpd_sample (China, when present) and a synthetic set rendered here
(plates with random texts in several countries' formats warped onto tests/fixtures/astronaut.jpg,
deterministic seed). Each ground-truth plate is matched to the detected plate with the best IoU
(none when no detection overlaps it); texts are compared after upper-casing and dropping every
non-alphanumeric character. Figures are given without and with the set's region hint, which the
plate reader turns into text formats (snapshot_stub.regions). One JSON line per set.
The crop sets' rows also give top1_as_shown: top-1 against what the crops whose labels are
plainly wrong show (bench/disputed_labels.json) instead of those labels.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.plate_crops import (
    CROP_SETS,
    Tally,
    crop_rows,
    disputed,
    mean_over_seeds,
    place_on_photo,
    scale_of,
)
from bench.synthetic import astronaut, plate_image, warp_onto
from blur_sdk.core.find.base import PlateDetection, PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.geometry import Box, iou
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.models.ppocr import crop_quad, recognise
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.regions import region_formats
from blur_sdk.options import finder_config
from blur_sdk.settings import load_settings

CCPD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "plates" / "ccpd_sample"
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
NO_VOWELS = "BCDFGHJKLMNPRSTVWXYZ"
DIGITS = "0123456789"


@dataclass
class Sample:
    """One image with its ground-truth plates (box, text) and the region hint of the set."""

    name: str
    rgb: npt.NDArray[np.uint8]
    plates: list[tuple[Box, str]]
    region: str


def normalise(text: str) -> str:
    """Upper-cased, alphanumerics only (CJK characters count as alphanumeric)."""
    return "".join(c for c in text.upper() if c.isalnum())


def _pick(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), n))


# region code -> renders a random plate text in that region's format (with its separators)
FORMATS: dict[str, Callable[[np.random.Generator], str]] = {
    "gb": lambda r: f"{_pick(r, LETTERS, 2)}{_pick(r, DIGITS, 2)} {_pick(r, LETTERS, 3)}",
    "fr": lambda r: f"{_pick(r, LETTERS, 2)}-{_pick(r, DIGITS, 3)}-{_pick(r, LETTERS, 2)}",
    "it": lambda r: f"{_pick(r, LETTERS, 2)} {_pick(r, DIGITS, 3)}{_pick(r, LETTERS, 2)}",
    "de": lambda r: f"{_pick(r, LETTERS, 2)} {_pick(r, LETTERS, 2)} {_pick(r, DIGITS, 3)}",
    "es": lambda r: f"{_pick(r, DIGITS, 4)} {_pick(r, NO_VOWELS, 3)}",
    "nl": lambda r: f"{_pick(r, DIGITS, 2)}-{_pick(r, LETTERS, 3)}-{_pick(r, DIGITS, 1)}",
    "us-ca": lambda r: f"{_pick(r, '123456789', 1)}{_pick(r, LETTERS, 3)}{_pick(r, DIGITS, 3)}",
    "in": lambda r: f"KA {_pick(r, DIGITS, 2)} {_pick(r, LETTERS, 2)} {_pick(r, DIGITS, 4)}",
    "br": lambda r: (
        f"{_pick(r, LETTERS, 3)}{_pick(r, DIGITS, 1)}{_pick(r, LETTERS, 1)}{_pick(r, DIGITS, 2)}"
    ),
}


def synthetic_set(count: int, seed: int) -> Iterator[Sample]:
    """`count` images, one plate each: random format, size (70-240 px wide), brightness, tilt,
    perspective, blur, noise and JPEG quality."""
    rng = np.random.default_rng(seed)
    background = astronaut()
    codes = sorted(FORMATS)
    for i in range(count):
        region = codes[i % len(codes)]
        text = FORMATS[region](rng)
        font, height = cv2.FONT_HERSHEY_DUPLEX, 112
        (tw, _), _ = cv2.getTextSize(text, font, height / 36, max(2, height // 14))
        plate = plate_image(text, width=tw + 70, height=height)
        plate = np.clip(plate * rng.uniform(0.55, 1.15), 0, 255).astype(np.uint8)
        width = float(rng.uniform(70, 240))
        size = np.array([width, width * height / plate.shape[1]])
        centre = rng.uniform(size / 2 + 10, 512 - size / 2 - 10)
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * size / 2
        angle = np.radians(rng.uniform(-10, 10))
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        quad = corners @ rot.T + centre + rng.uniform(-0.12, 0.12, (4, 2)) * size[1]
        scene = warp_onto(background, plate, quad).astype(np.float64)
        sigma = float(rng.uniform(0, 1.6))
        if sigma > 0.3:
            scene = np.asarray(cv2.GaussianBlur(scene, (0, 0), sigma), np.float64)
        scene += rng.normal(0, rng.uniform(0, 6), scene.shape)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(
            buffer, format="JPEG", quality=int(rng.integers(40, 90))
        )
        box = (
            float(quad[:, 0].min()),
            float(quad[:, 1].min()),
            float(quad[:, 0].max()),
            float(quad[:, 1].max()),
        )
        rgb = decode_image(buffer.getvalue()).rgb
        yield Sample(f"synthetic_{i:03d}_{region}", rgb, [(box, text)], region)


def ccpd_set(limit: int) -> Iterator[Sample]:
    """The CCPD sample (China): labels.jsonl rows with box and text."""
    rows = [json.loads(line) for line in (CCPD / "labels.jsonl").read_text().splitlines()]
    for row in rows[:limit] if limit else rows:
        rgb = decode_image((CCPD / row["image"]).read_bytes()).rgb
        plates: list[tuple[Box, str]] = []
        for plate in row["plates"]:
            if plate.get("text"):
                x1, y1, x2, y2 = (float(v) for v in plate["box"])
                plates.append(((x1, y1, x2, y2), str(plate["text"])))
        yield Sample(row["image"], rgb, plates, "cn")


def best_match(box: Box, plates: list[PlateDetection]) -> PlateDetection | None:
    """The detected plate with the best IoU with box (None when none overlaps)."""
    scored = [(iou(box, p.box), p) for p in plates]
    scored = [s for s in scored if s[0] > 0]
    return max(scored, key=lambda s: s[0])[1] if scored else None


def evaluate(engine: Engine, name: str, samples: Iterator[Sample], mode: str) -> dict[str, Any]:
    """Top-1 / top-k exact-match rates without and with the region hint."""
    counts = {"plates": 0, "found": 0, "top1": 0, "topk": 0, "top1_hint": 0, "topk_hint": 0}
    latencies: list[float] = []
    wrong: list[str] = []
    for sample in samples:
        found = {}
        for hint in (False, True):
            codes = (sample.region,) if hint else ()
            options = PlateOptions(mode=mode, regions=codes)
            started = time.perf_counter()
            found[hint] = engine.detect(sample.rgb, plate_options=options).plates
            latencies.append((time.perf_counter() - started) * 1000)
        for box, text in sample.plates:
            counts["plates"] += 1
            truth = normalise(text)
            for hint, suffix in ((False, ""), (True, "_hint")):
                match = best_match(box, found[hint])
                if match is None:
                    continue
                counts["found"] += not hint
                top1 = normalise(match.text) == truth
                counts["top1" + suffix] += top1
                counts["topk" + suffix] += top1 or any(
                    normalise(t) == truth for t, _ in match.candidates
                )
                if not hint and not top1:
                    wrong.append(f"{truth}->{normalise(match.text)}")
    total = max(counts["plates"], 1)
    return {
        "set": name,
        "mode": mode,
        "plates": counts["plates"],
        "found": counts["found"],
        "top1": round(counts["top1"] / total, 3),
        "topk": round(counts["topk"] / total, 3),
        "top1_region_hint": round(counts["top1_hint"] / total, 3),
        "topk_region_hint": round(counts["topk_hint"] / total, 3),
        "k": 5,
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "misread": wrong[:12],
    }


def read_crop(engine: Engine, rgb: npt.NDArray[np.uint8], options: PlateOptions) -> list[str]:
    """The plate reader's readings of a tight plate crop, best first."""
    ocr: Any = next(d for d in engine.plate_detectors if d.name == "ocr")
    if hasattr(ocr, "read_crop"):
        return [normalise(t) for t, _ in ocr.read_crop(rgb, options)]
    h, w = rgb.shape[:2]
    whole = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    reading = recognise(ocr.rec, [crop_quad(rgb, whole)], ocr.charset)[0]  # (one line)
    formats = options.text_formats + region_formats(options.regions)
    return [normalise(t) for t, _ in plate_text.candidates(reading.chars, formats)]


def evaluate_crops(
    engine: Engine, name: str, limit: int, mode: str, seed: int, *, crop_path: bool = True
) -> Iterator[dict[str, Any]]:
    """Crop-set figures: read on the crop (unless crop_path is False: it does not depend on the
    seed), then through the service with the crop on a photo (placed as the seed says)."""
    rng = np.random.default_rng(seed)
    paths = ("crop", "service") if crop_path else ("service",)
    tallies = {path + suffix: Tally() for path in paths for suffix in ("", "_hint")}
    ms: dict[str, list[float]] = {"crop": [], "service": []}
    shows = disputed(name)
    for image, crop, text, region in crop_rows(name, limit):
        truth, shown = normalise(text), shows.get(image, "")
        scene, box = place_on_photo(crop, rng, scale_of(name))
        for hint in (False, True):
            options = PlateOptions(mode=mode, regions=(region,) if hint else ())
            suffix = "_hint" if hint else ""
            if crop_path:
                started = time.perf_counter()
                tallies["crop" + suffix].add(region, truth, read_crop(engine, crop, options), shown)
                ms["crop"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            match = best_match(box, engine.detect(scene, plate_options=options).plates)
            ms["service"].append((time.perf_counter() - started) * 1000)
            ranked = None if match is None else [normalise(t) for t, _ in match.candidates]
            if ranked is not None and normalise(match.text) not in ranked[:1]:  # type: ignore[union-attr]
                ranked.insert(0, normalise(match.text))  # type: ignore[union-attr]
            tallies["service" + suffix].add(region, truth, ranked, shown)
    for key, tally in tallies.items():
        path = key.split("_")[0]
        yield {
            "set": name,
            "path": path,
            "region_hint": key.endswith("_hint"),
            "mode": mode,
            **tally.figures(),
            "k": 5,
            "median_ms": round(statistics.median(ms[path]), 1) if ms[path] else None,
            "seed": seed,
        }


def main() -> int:
    """Print one JSON line of figures per set."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--mode", default="redaction", choices=["redaction", "fast"])
    parser.add_argument("--count", type=int, default=50, help="synthetic images")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--seeds", default="", help="crop sets: place them with each seed (e.g. 7,8,9), + the mean"
    )
    parser.add_argument("--limit", type=int, default=0, help="CCPD images (0 = all)")
    parser.add_argument("--no-ccpd", action="store_true")
    parser.add_argument("--crops", type=int, default=0, help="crops per crop set (0 = all)")
    parser.add_argument("--no-crops", action="store_true")
    parser.add_argument("--only", default="", help="run only these sets (comma-separated)")
    args = parser.parse_args()
    engine = Engine.build(finder_config(load_settings()), faces=False)
    only = set(filter(None, args.only.split(",")))
    seeds = [int(v) for v in args.seeds.split(",") if v] or [args.seed]
    for name, root in CROP_SETS.items():
        if args.no_crops or (only and name not in only):
            continue
        if not (root / "labels.jsonl").is_file():
            print(json.dumps({"set": name, "skipped": f"{root} not present"}))
            continue
        rows = []
        for i, seed in enumerate(seeds):
            for figures in evaluate_crops(
                engine, name, args.crops, args.mode, seed, crop_path=i == 0
            ):
                print(json.dumps(figures), flush=True)
                rows.append(figures)
        if len(seeds) > 1:
            for figures in mean_over_seeds(rows):
                print(json.dumps(figures), flush=True)
    if only and "ccpd_sample" not in only:
        return 0
    if not args.no_ccpd:
        if (CCPD / "labels.jsonl").is_file():
            print(json.dumps(evaluate(engine, "ccpd_sample", ccpd_set(args.limit), args.mode)))
        else:
            print(json.dumps({"set": "ccpd_sample", "skipped": f"{CCPD} not present"}))
    samples = synthetic_set(args.count, args.seed)
    print(json.dumps(evaluate(engine, f"synthetic_{args.count}", samples, args.mode)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
