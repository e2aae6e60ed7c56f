"""Where the time goes: decode / faces / plate text detection / recognition / render / encode.

Usage: python bench/speed.py [IMAGE ...] [--runs 5]
Default images: ../shared/bench/*.jpg. Prints one JSON line per image with median milliseconds
per stage (after one warm-up run that compiles the models for that input shape), and the
end-to-end median of the whole pipeline (faces=10, plates=10) as the Blur server runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blur_sdk.core.find.base import FaceOptions, PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.text_plates import keep_geometry
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.image.encode import encode_image
from blur_sdk.core.models.ppocr import crop_quad, detect_text, recognise
from blur_sdk.core.pipeline import anonymize, intensity_job
from blur_sdk.core.redact import blur as render
from blur_sdk.options import face_options, finder_config
from blur_sdk.settings import load_settings

BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


def median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of fn over runs (after one warm-up call), and its last result."""
    result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), result


def profile(engine: Engine, path: Path, runs: int, face_options: FaceOptions) -> dict[str, Any]:
    """Stage-by-stage medians for one image."""
    data = path.read_bytes()
    plates = engine.plate_detectors[0]
    face = engine.face_detector
    assert face is not None
    row: dict[str, Any] = {"image": path.name}
    row["decode_ms"], decoded = median_ms(lambda: decode_image(data), runs)
    rgb = decoded.rgb
    row["size"] = f"{decoded.width}x{decoded.height}"
    row["faces_ms"], faces = median_ms(lambda: face.detect(rgb, face_options), runs)
    det, rec = plates.det, plates.rec  # type: ignore[attr-defined]
    max_side, min_side = plates.max_side, plates.min_side  # type: ignore[attr-defined]
    row["plate_text_det_ms"], boxes = median_ms(
        lambda: detect_text(det, rgb, 0.4, max_side, min_side=min_side), runs
    )
    kept = [b for b in boxes if keep_geometry(b, decoded.height)]
    crops = [crop_quad(rgb, b.quad) for b in kept]
    row["plate_rec_ms"], _ = median_ms(lambda: recognise(rec, crops, plates.charset), runs)  # type: ignore[attr-defined]
    row["text_lines"] = len(crops)
    found = plates.detect(rgb, PlateOptions())
    polygons = [np.array(p.polygon) for p in found]
    regions = [f.region for f in faces]

    def draw() -> Any:
        out = render.blur_plates(rgb, polygons, 10) if polygons else rgb
        return render.blur_faces(out, regions, 10) if regions else out

    row["render_ms"], blurred = median_ms(draw, runs)
    row["encode_ms"], _ = median_ms(lambda: encode_image(decoded, blurred), runs)
    request = intensity_job(faces=10, plates=10, face_options=face_options)
    row["pipeline_ms"], result = median_ms(lambda: anonymize(engine, data, request), runs)
    row["faces"], row["plates"] = len(result.of_kind("face")), len(result.of_kind("plate"))
    return row


def main() -> int:
    """Print one JSON line per image."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    images = args.images or sorted(BENCH.glob("*.jpg"))
    if not images:
        print(f"no images given and none in {BENCH} (is ../shared present?)")
        return 1
    settings = load_settings()
    engine = Engine.build(finder_config(settings))
    face_opts = face_options(settings)
    precision = {
        "faces": engine.face_detector.runner.precision,  # type: ignore[union-attr]
        "plates": engine.plate_detectors[0].det.precision,  # type: ignore[attr-defined]
    }
    print(json.dumps({"cpus": os.cpu_count(), "precision": precision}))
    for path in images:
        print(json.dumps(profile(engine, path, args.runs, face_opts)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
