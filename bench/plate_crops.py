"""Plate crop sets (br_crops_dev, eu_crops_dev): read by the recogniser, or placed on a photo.

The crops are tight plates (the box is the whole image). "crop" reads each one through the
plate reader's own reading of a plate region (PlateReader.read_crop: text lines inside the
crop, the registration lines, formats); "service" warps it onto a 640x480 photo at a random
size (1-2.2x for the small EU crops, 0.9-1.6x for the Brazilian ones), tilt (+-6 degrees) and
position (deterministic seed), JPEG-encodes it and runs the whole engine on it.
"""

from __future__ import annotations

import io
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from bench.synthetic import astronaut, warp_onto
from bench.vehicle_codes import VEHICLE_CODES
from blur_sdk.core.image.decode import decode_image

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "plates"
CROP_SETS = {"br_crops_dev": DATA / "br_crops_dev", "eu_crops_dev": DATA / "eu_crops_dev"}
CANVAS = (640, 480)
DISPUTED = Path(__file__).resolve().parent / "disputed_labels.json"


def iso_region(code: str) -> str:
    """The ISO region code of a label's region (vehicle codes mapped, others kept)."""
    return VEHICLE_CODES.get(code, code)


def disputed(name: str) -> dict[str, str]:
    """Image name -> the text its crop plainly shows, where the set's label says otherwise
    (bench/disputed_labels.json)."""
    table = json.loads(DISPUTED.read_text()).get(name, {})
    return {image: str(entry["crop_shows"]) for image, entry in table.items()}


def crop_rows(name: str, limit: int = 0) -> Iterator[tuple[str, npt.NDArray[np.uint8], str, str]]:
    """(image name, RGB crop, text, ISO region) per labelled crop, the first `limit` only."""
    root = CROP_SETS[name]
    rows = [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]
    for row in rows[:limit] if limit else rows:
        rgb = decode_image((root / row["image"]).read_bytes()).rgb
        yield row["image"], rgb, str(row["plates"][0]["text"]), iso_region(row["region"])


def place_on_photo(
    crop: npt.NDArray[np.uint8], rng: np.random.Generator, scale: tuple[float, float]
) -> tuple[npt.NDArray[np.uint8], tuple[float, float, float, float]]:
    """The crop warped onto a photo (size, tilt, place from rng), JPEG round-tripped; its box."""
    width, height = CANVAS
    background = cv2.resize(astronaut(), (width, height), interpolation=cv2.INTER_AREA)
    factor = float(rng.uniform(*scale))
    size = np.array([crop.shape[1], crop.shape[0]], np.float64) * factor
    centre = rng.uniform(size / 2 + 20, np.array([width, height]) - size / 2 - 20)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * size / 2
    angle = np.radians(rng.uniform(-6, 6))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = corners @ rot.T + centre
    scene = warp_onto(background, crop, quad)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    box = (
        float(quad[:, 0].min()),
        float(quad[:, 1].min()),
        float(quad[:, 0].max()),
        float(quad[:, 1].max()),
    )
    return decode_image(buffer.getvalue()).rgb, box


def scale_of(name: str) -> tuple[float, float]:
    """The range of sizes a set's crops are placed at (the EU crops are ~70 px wide)."""
    return (1.0, 2.2) if name.startswith("eu") else (0.9, 1.6)


def _rate(hits: int, total: int) -> float:
    return round(hits / max(total, 1), 3)


class Tally:
    """Exact top-1 / top-k counts per region and overall, for one way of reading; top-1 also
    against what a crop with a disputed label shows (top1_as_shown)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}  # region -> [plates, found, top1, topk, as shown]
        self.misread: list[str] = []

    def add(self, region: str, truth: str, ranked: list[str] | None, shown: str = "") -> None:
        """One plate: its truth, the ranked readings (None: not found) and, where its label is
        disputed, what its crop shows."""
        row = self.rows.setdefault(region, [0, 0, 0, 0, 0])
        row[0] += 1
        if ranked is None:
            self.misread.append(f"{truth}->(not found)")
            return
        row[1] += 1
        row[2] += bool(ranked) and ranked[0] == truth
        row[3] += truth in ranked
        row[4] += bool(ranked) and ranked[0] == (shown or truth)
        if not ranked or ranked[0] != truth:
            self.misread.append(f"{truth}->{ranked[0] if ranked else ''}")

    def figures(self) -> dict[str, object]:
        """Overall and per-region found / top-1 / top-k rates."""
        total = [sum(r[i] for r in self.rows.values()) for i in range(5)]
        per_region = {
            code: {"n": r[0], "top1": _rate(r[2], r[0]), "topk": _rate(r[3], r[0])}
            for code, r in sorted(self.rows.items(), key=lambda kv: -kv[1][0])
        }
        return {
            "plates": total[0],
            "found": total[1],
            "top1": _rate(total[2], total[0]),
            "topk": _rate(total[3], total[0]),
            "top1_as_shown": _rate(total[4], total[0]),
            "per_region": per_region,
            "misread": self.misread[:15],
        }


def mean_over_seeds(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The service path's figures averaged over placements (one row per set and hint): one
    placement's exact top-1 moves by up to 2 points between seeds (README, Plate reading)."""
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for row in rows:
        if row["path"] == "service":
            groups.setdefault((row["set"], row["region_hint"]), []).append(row)
    for (name, hint), group in groups.items():
        top1 = [float(r["top1"]) for r in group]
        yield {
            "set": name,
            "path": "service",
            "region_hint": hint,
            "seeds": [r["seed"] for r in group],
            "top1_mean": round(statistics.mean(top1), 3),
            "top1_range": [min(top1), max(top1)],
            "topk_mean": round(statistics.mean(float(r["topk"]) for r in group), 3),
            "top1_as_shown_mean": round(
                statistics.mean(float(r["top1_as_shown"]) for r in group), 3
            ),
            "found_mean": round(statistics.mean(int(r["found"]) for r in group), 1),
        }
