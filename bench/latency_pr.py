"""Plate Recognizer's own Blur benchmark method, for bench/latency.py --method platerecognizer.

Their `benchmark/benchmark_snapshot.py --blur` (parkpow/deep-license-plate-recognition): two
warm-up calls with the 4K car photo, then per size the photo resized to it (Pillow's default
resize, saved as a JPEG at Pillow's default quality) and POSTed to `/` as `upload` (no form
fields: the server runs with PLATES=10 FACES=10) `--calls` times by 4 concurrent clients
(a thread pool of 4; a new connection per call, as `requests.post` makes). Their t2.large
"Speed" (benchmark_blur.md, 2024-04-26) is the wall time of the 50 calls / 50, as their script
computed it then (`avg=duration / args.iterations`; "Speed is duration / number_of_calls"):
`wall_per_call_ms` here, compared with theirs. Since 2025-08-29 their script reports the mean of
each call's own time instead (~4x larger with 4 in flight; their i3-1215U tables): `mean_ms`,
with p50 / p95 / min / max. Peak memory: the Blur server's RSS (gunicorn master + workers,
summed) sampled every 50 ms during each size.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from bench.procutil import memory_mb

SIZES = ((800, 600), (1280, 720), (1920, 1080), (2560, 1440))
CLIENTS = 4
SERVER_ENV = {"FACES": "10", "PLATES": "10", "WORKERS": "1", "THREADS": "4"}
# benchmark/benchmark_blur.md, AWS t2.large (2 vCPU Xeon E5-2686 v4), WORKERS=1 (default):
# speed (mean ms per call, 4 concurrent) and peak MiB of Blur; Snapshot peaked at 235-237 MiB.
THEIRS: dict[tuple[int, int], tuple[float, float]] = {
    (800, 600): (406.9, 705.61),
    (1280, 720): (426.6, 681.43),
    (1920, 1080): (528.0, 692.35),
    (2560, 1440): (975.7, 746.27),
}
THEIR_SNAPSHOT_MIB = 235.3


def resized(photo: Path, size: tuple[int, int]) -> bytes:
    """The photo resized as their script does (`image.resize(size).save(path)`), as JPEG bytes."""
    with Image.open(photo) as image:
        buffer = io.BytesIO()
        image.resize(size).save(buffer, format="JPEG")
    return buffer.getvalue()


def call_ms(url: str, data: bytes) -> float:
    """One call as theirs: POST / with the upload alone, a fresh connection; raises unless 2xx."""
    started = time.perf_counter()
    response = requests.post(url + "/", files={"upload": ("image.jpg", data)}, timeout=300)
    elapsed = (time.perf_counter() - started) * 1000
    if not 200 <= response.status_code < 300 or "blur" not in response.json():
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return elapsed


class PeakRss:
    """Samples the summed RSS of pid and its descendants every `every` s until stopped."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, memory_mb(self.pid)["rss_mb"])
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, memory_mb(self.pid)["rss_mb"])


def measure_pr(url: str, pid: int, photo: Path, calls: int) -> list[dict[str, Any]]:
    """Their warm-up, then every size: per-call ms statistics and the server's peak RSS."""
    rows: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        original = photo.read_bytes()
        list(pool.map(lambda d: call_ms(url, d), [original] * 2))  # their warm-up
        for size in SIZES:
            data = resized(photo, size)
            started = time.perf_counter()
            sampler = PeakRss(pid) if pid else None
            with sampler or nullcontext():
                times = list(pool.map(lambda d: call_ms(url, d), [data] * calls))
            seconds = time.perf_counter() - started
            ordered = sorted(times)
            their_ms, their_mib = THEIRS[size]
            rows.append(
                {
                    "size": f"{size[0]}x{size[1]}",
                    "calls": calls,
                    "mean_ms": round(statistics.fmean(times), 1),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 1),
                    "min_ms": round(ordered[0], 1),
                    "max_ms": round(ordered[-1], 1),
                    "wall_per_call_ms": round(seconds * 1000 / calls, 1),
                    "theirs_ms": their_ms,
                    "speedup": round(their_ms * calls / (seconds * 1000), 2),
                    "peak_rss_mb": sampler.peak_mb if sampler is not None else None,
                    "theirs_mib": their_mib,
                }
            )
    return rows


def markdown_pr(rows: list[dict[str, Any]]) -> str:
    """Ours beside theirs, one row per size."""
    head = ["size", "calls", "Speed: wall / call", "theirs t2.large", "theirs / ours"]
    head += ["call mean", "p50", "p95", "min", "max", "peak RSS MiB", "theirs MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells: list[object] = [row["size"], row["calls"], row["wall_per_call_ms"]]
        cells += [row["theirs_ms"], f"{row['speedup']:.2f}x"]
        cells += [row[k] for k in ("mean_ms", "p50_ms", "p95_ms", "min_ms", "max_ms")]
        peak = row["peak_rss_mb"]
        cells += ["-" if peak is None else peak, f"{row['theirs_mib']} + {THEIR_SNAPSHOT_MIB}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)
