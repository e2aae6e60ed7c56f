"""Accuracy of each image API over HTTP, on a real server process: found@cover80 (and hidden).

Usage: python bench/api_accuracy.py [--limit N] [--faces DIR] [--plates DIR] [--apis blur,...]
Default sets: ../shared/data/faces/face_mask_dev through all three APIs, and
../shared/data/plates/openlpr_val through the two that hide plates (Blur, Watermarkly).

`python -m blur_sdk serve` is started on a free port of 127.0.0.1 with APIS=blur,watermarkly,
faceblurest, and each image is sent as a client would send it:
- Blur: POST / (upload, faces=10 or plates=10, the other -1); the blurred region is rebuilt
  from the JSON (face boxes in SHAPE, plate polygons grown by PLATE_MARGIN), as bench/accuracy.py
  rebuilds it from the pipeline's result;
- FaceBlurest: POST /faceblurest.aspx (base64 JSON); face boxes from its fractions, in ellipses;
- Watermarkly: POST /blur/?blur_intensity=20&format=png (raw bytes). It answers only an image,
  so "hidden" (bench.measures: at most 35 % of a box's edge energy left) is measured on it, and
  its found@cover80 on the pixels it changed (the output differs from the decoded input; holes
  closed), since no region comes back.
A labelled object is *found* when that region covers >= 80 % of its box.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measures import (
    ObjectMeasure,
    blur_mask,
    coverage,
    edge_energy,
    energy_left,
    summarise,
    to_gray,
)
from bench.procutil import Server, free_port, start_server
from blur_sdk.core.image.decode import decode_image
from blur_sdk.settings import Settings, load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FACES, PLATES = SHARED / "faces" / "face_mask_dev", SHARED / "plates" / "openlpr_val"
APIS = ("blur", "faceblurest", "watermarkly")
PLATE_APIS = ("blur", "watermarkly")  # FaceBlurest hides faces only
FACEBLUREST_SHAPE = "ellipse"  # blur_sdk.apis.faceblurest.request.FACE_SHAPE
CLOSE_KERNEL = 9  # px: holes in Watermarkly's changed-pixel mask (flat patches) closed
TIMEOUT = 300.0

Mask = npt.NDArray[np.bool_]
Rgb = npt.NDArray[np.uint8]


def blur_region(
    data: bytes, kind: str, url: str, shape: tuple[int, int], settings: Settings
) -> tuple[Mask, None]:
    """Blur API: the region it says it blurred."""
    fields = {"faces": "10", "plates": "-1"} if kind == "faces" else {"faces": "-1", "plates": "10"}
    files = {"upload": ("image.jpg", data, "image/jpeg")}
    response = requests.post(url + "/", files=files, data=fields, timeout=TIMEOUT)
    response.raise_for_status()
    body = response.json()
    regions = [
        (b["xmin"], b["ymin"], b["xmax"], b["ymax"]) for b in (f["box"] for f in body["faces"])
    ]
    polygons = [p["polygon"] for p in body["plates"]]
    return blur_mask(shape, polygons, regions, settings.plate_margin, settings.shape), None


def faceblurest_region(
    data: bytes, kind: str, url: str, shape: tuple[int, int], settings: Settings
) -> tuple[Mask, None]:
    """FaceBlurest: the face boxes of its answer, fractions of the image size."""
    body = {"base64_Photo_String": base64.b64encode(data).decode("ascii"), "photo_url": "NO"}
    response = requests.post(url + "/faceblurest.aspx", json=body, timeout=TIMEOUT)
    response.raise_for_status()
    answer = response.json()
    if not isinstance(answer, dict):
        raise RuntimeError(f"FaceBlurest refused the image: {answer}")
    h, w = shape
    regions = []
    for face in answer["predictions"]:
        b = face["boundingBox"]
        x1, y1 = b["left"] * w, b["top"] * h
        regions.append((x1, y1, x1 + b["width"] * w, y1 + b["height"] * h))
    return blur_mask(shape, [], regions, settings.plate_margin, FACEBLUREST_SHAPE), None


def watermarkly_region(
    data: bytes, kind: str, url: str, shape: tuple[int, int], settings: Settings
) -> tuple[Mask, Rgb]:
    """Watermarkly: the returned image, and the pixels it changed (closed) as the region."""
    response = requests.post(
        url + "/blur/",
        params={"blur_intensity": "20", "format": "png"},
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    after = decode_image(response.content).rgb
    if after.shape[:2] != shape:  # resized to WATERMARKLY_MAX_SIDE: back to the input's size
        after = cv2.resize(after, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    before = decode_image(data).rgb
    changed = (np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > 0).astype(
        np.uint8
    )
    kernel = np.ones((CLOSE_KERNEL, CLOSE_KERNEL), np.uint8)
    closed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, kernel)
    return closed.astype(bool), after


Sender = Callable[[bytes, str, str, tuple[int, int], Settings], tuple[Mask, "Rgb | None"]]
SENDERS: dict[str, Sender] = {
    "blur": blur_region,
    "faceblurest": faceblurest_region,
    "watermarkly": watermarkly_region,
}


def evaluate(api: str, set_dir: Path, url: str, limit: int, settings: Settings) -> dict[str, Any]:
    """Send each image of the set through one API; its figures."""
    rows = [json.loads(line) for line in (set_dir / "labels.jsonl").read_text().splitlines()]
    rows = rows[:limit] if limit else rows
    kind = "faces" if "faces" in rows[0] else "plates"
    measures: list[ObjectMeasure] = []
    latencies, misses, errors = [], [], []
    for row in rows:
        data = (set_dir / row["image"]).read_bytes()
        before = decode_image(data).rgb
        started = time.perf_counter()
        try:
            mask, after = SENDERS[api](data, kind, url, before.shape[:2], settings)
        except (requests.RequestException, RuntimeError, ValueError) as e:
            errors.append(f"{row['image']}: {str(e)[:120]}")
            mask, after = np.zeros(before.shape[:2], bool), None
        latencies.append((time.perf_counter() - started) * 1000)
        energy_in = edge_energy(to_gray(before))
        energy_out = edge_energy(to_gray(after)) if after is not None else None
        for box in (o["box"] for o in row[kind]):
            left = energy_left(energy_in, energy_out, box) if energy_out is not None else 1.0
            measure = ObjectMeasure(float(box[3] - box[1]), coverage(mask, box), left)
            measures.append(measure)
            if not measure.found or (api == "watermarkly" and not measure.hidden):
                misses.append(row["image"])
    figures = summarise(measures)
    out: dict[str, Any] = {
        "api": api,
        "set": str(set_dir.relative_to(SHARED)) if set_dir.is_relative_to(SHARED) else str(set_dir),
        "images": len(rows),
        "objects": figures["objects"],
        "found@cover80": figures["found@cover80"],
    }
    if api == "watermarkly":
        out["hidden"] = figures["hidden"]
    out["median_ms"] = round(statistics.median(latencies), 1) if latencies else None
    out["errors"] = errors[:10]
    out["misses"] = sorted(set(misses))[:20]
    return out


def start(log_level: str = "warning") -> Server:
    """The Blur role with its three image APIs, on a free port of 127.0.0.1."""
    port = free_port()
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {
        "APIS": ",".join(APIS),
        "LOG_LEVEL": log_level,
        "LICENSE_DIR": tempfile.mkdtemp(prefix="blur-sdk-api-accuracy-"),
        "WORKERS": "1",
        "THREADS": "2",
    }
    return start_server(cmd, port, env, timeout=300)


def main() -> int:
    """Print one JSON line of figures per API and set."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0, help="first N images of each set")
    parser.add_argument("--faces", type=Path, default=FACES)
    parser.add_argument("--plates", type=Path, default=PLATES)
    parser.add_argument("--apis", default=",".join(APIS), help="comma-separated subset")
    args = parser.parse_args()
    apis = [a for a in args.apis.split(",") if a]
    unknown = sorted(set(apis) - set(APIS))
    if unknown:
        parser.error(f"--apis: unknown {', '.join(unknown)} (use {', '.join(APIS)})")
    sets = [args.faces, args.plates]
    missing = [s for s in sets if not (s / "labels.jsonl").is_file()]
    if missing:
        print(f"no labels.jsonl in {', '.join(map(str, missing))} (is ../shared present?)")
        return 1
    settings = load_settings({**os.environ, "APIS": ",".join(APIS)})
    server = start()
    try:
        for api in apis:
            for set_dir in sets:
                if set_dir == args.plates and api not in PLATE_APIS:
                    continue
                print(
                    json.dumps(evaluate(api, set_dir, server.url, args.limit, settings)), flush=True
                )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
