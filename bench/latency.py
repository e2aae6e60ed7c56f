"""End-to-end latency over real HTTP: client p50/p90 against a decode + encode floor.

Usage: python bench/latency.py [IMAGE ...] [--runs 15] [--concurrency 1] [--env KEY=VALUE ...]
       [--url URL [--pid PID]] [--deface [--deface-venv DIR]]
       [--method platerecognizer [--calls 50] [--photo 4K.jpg]]

Without --url the Blur server runs as `make run` starts it (`python -m blur_sdk serve`, i.e.
gunicorn with config/gunicorn.conf.py, embedded engine) on a free port of 127.0.0.1; --env
passes settings to it (WORKERS=2, THREADS=1, OV_THREADS=1, JPEG_QUALITY=90...). Images default
to ../shared/bench/*.jpg. Per image: one warm-up request per client, then --concurrency client
threads (keep-alive sessions) each POST it --runs times to /v1/blur with faces=10, plates=10.
Reported per image: client wall time p50/p90, the server's median per stage (its
`Server-Timing` header), the floor (median in-process decode_image + encode_image of the same
image at the server's JPEG quality: what any server must spend on it), p50 / floor, requests/s,
and the server's memory after the image (VmRSS and VmHWM of gunicorn master + workers, MiB;
attached: give --pid). --deface adds deface's median (bench/deface_floor.py, faces only; run
after the server stops). Prints a markdown table, then one JSON line with every figure.

--method platerecognizer first measures the same server as Plate Recognizer's own Blur benchmark
does (bench/latency_pr.py: 4 concurrent clients, --calls calls per size, the 4K car photo
resized to 800x600 / 1280x720 / 1920x1080 / 2560x1440, PLATES=10 FACES=10, WORKERS=1 THREADS=4)
and prints ms per call (wall time / calls, their t2.large "Speed"; each call's own time too) and
peak RSS beside their published t2.large figures, then the table above (one client:
--concurrency is ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deface_floor import DEFAULT_VENV, deface_figures  # noqa: E402
from bench.latency_pr import SERVER_ENV, markdown_pr, measure_pr  # noqa: E402
from bench.procutil import Server, free_port, memory_mb, start_server  # noqa: E402
from blur_sdk.core.image.decode import decode_image  # noqa: E402
from blur_sdk.core.image.encode import encode_image  # noqa: E402
from blur_sdk.settings import load_settings  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
STAGES = ("decode", "faces", "plates", "render", "encode", "total")
FIELDS = {"faces": "10", "plates": "10"}  # blur intensities, as Plate Recognizer names them


def parse_server_timing(header: str) -> dict[str, float]:
    """`decode;dur=3.8, faces;dur=52.1` -> {"decode": 3.8, "faces": 52.1}."""
    stages: dict[str, float] = {}
    for metric in filter(None, (part.strip() for part in header.split(","))):
        name, *params = (p.strip() for p in metric.split(";"))
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "dur":
                stages[name] = float(value)
    return stages


def floor_ms(data: bytes, runs: int, quality: int) -> float:
    """Median in-process decode_image + encode_image (the raster as decoded), after a warm-up."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        decoded = decode_image(data)
        encode_image(decoded, decoded.rgb, quality=quality)
        if i:
            times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def post(session: requests.Session, url: str, path: Path, data: bytes) -> dict[str, Any]:
    """One blur request: client ms, server stages, faces/plates found; raises unless 200."""
    started = time.perf_counter()
    response = session.post(
        url + "/v1/blur",
        files={"upload": (path.name, data, "image/jpeg")},
        data=FIELDS,
        timeout=300,
    )
    client_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path.name}: HTTP {response.status_code}: {response.text[:300]}")
    body = response.json()
    return {
        "client_ms": client_ms,
        "stages": parse_server_timing(response.headers.get("Server-Timing", "")),
        "faces": len(body.get("faces") or []),
        "plates": len(body.get("plates") or []),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank; the median for q = 0.5), rounded to 0.1."""
    if q == 0.5:
        return round(statistics.median(values), 1)
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)


def measure(url: str, path: Path, runs: int, concurrency: int) -> dict[str, Any]:
    """Warm up, then `concurrency` clients x `runs` requests; latency, stages and throughput."""
    data = path.read_bytes()
    sessions = [requests.Session() for _ in range(concurrency)]
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(session: requests.Session, count: int, keep: bool) -> None:
        try:
            for _ in range(count):
                answer = post(session, url, path, data)
                if keep:
                    with lock:
                        results.append(answer)
        except (requests.RequestException, RuntimeError, ValueError) as e:
            errors.append(e)

    def run_all(count: int, keep: bool) -> float:
        threads = [threading.Thread(target=client, args=(s, count, keep)) for s in sessions]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"{len(errors)} request(s) failed, first: {errors[0]}")
        return time.perf_counter() - started

    run_all(1, keep=False)  # warm-up: a new input shape compiles on its first request
    seconds = run_all(runs, keep=True)
    client_ms = [r["client_ms"] for r in results]
    stages: dict[str, float | None] = {}
    for stage in STAGES:
        values = [r["stages"][stage] for r in results if stage in r["stages"]]
        stages[stage] = round(statistics.median(values), 1) if values else None
    return {
        "requests": len(results),
        "p50_ms": percentile(client_ms, 0.5),
        "p90_ms": percentile(client_ms, 0.9),
        "rps": round(len(results) / seconds, 2),
        "server_ms": stages,
        "faces": results[-1]["faces"],
        "plates": results[-1]["plates"],
    }


def start_blur(env: dict[str, str]) -> Server:
    """The Blur server as `make run` starts it, on a free port of 127.0.0.1."""
    port = free_port()
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--host", "127.0.0.1", "--port", str(port)]
    defaults = {"LOG_LEVEL": "warning", "LICENSE_DIR": f"/tmp/blur-sdk-latency-{os.getpid()}"}
    return start_server(cmd, port, {**defaults, **env}, timeout=300)


def markdown(rows: list[dict[str, Any]], with_deface: bool) -> str:
    """One table row per image."""
    head = ["image", "size", "p50", "p90", "rps", "server total"]
    head += [*STAGES[:-1], "found f/p", "floor", "p50/floor", "RSS MiB", "HWM MiB"]
    head += ["deface ms", "deface detect ms", "deface faces"] if with_deface else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        server = row["server_ms"]
        cells = [row["image"], row["size"], row["p50_ms"], row["p90_ms"], row["rps"]]
        cells += ["-" if server[s] is None else server[s] for s in ("total", *STAGES[:-1])]
        cells += [f"{row['faces']}/{row['plates']}", row["floor_ms"], f"{row['ratio']:.1f}x"]
        cells += [row["rss_mb"], row["hwm_mb"]]
        if with_deface:
            deface = row.get("deface") or {}
            cells += [deface.get(k, "-") for k in ("total_ms", "detect_ms", "faces")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per client")
    parser.add_argument("--url", default="", help="attach to this server instead of starting one")
    parser.add_argument("--pid", type=int, default=0, help="its gunicorn master, for memory")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="for the started server"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="client threads")
    parser.add_argument("--deface", action="store_true", help="add deface's figures")
    parser.add_argument("--deface-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--method", choices=("ours", "platerecognizer"), default="ours")
    parser.add_argument("--calls", type=int, default=50, help="platerecognizer: calls per size")
    parser.add_argument("--photo", type=Path, default=BENCH / "car_3840x2160.jpg")
    args = parser.parse_args()
    if any("=" not in item for item in args.env):
        parser.error("--env takes KEY=VALUE")
    if args.runs < 1 or args.concurrency < 1 or args.calls < 1:
        parser.error("--runs, --concurrency and --calls must be at least 1")
    if args.method == "platerecognizer":
        args.concurrency = 1
    return args


def main() -> int:
    """Measure every image, print the table and the JSON line."""
    args = parse_args()
    images = args.images or sorted(BENCH.glob("*.jpg"))
    if not images:
        print(f"no images given and none in {BENCH} (is ../shared present?)")
        return 1
    env = dict(item.split("=", 1) for item in args.env)
    theirs = args.method == "platerecognizer"
    env = {**SERVER_ENV, **env} if theirs else env
    quality = load_settings({**os.environ, **env}).jpeg_quality
    load_before = os.getloadavg()[0]  # other work on the machine distorts every figure
    server = None
    if args.url:
        url, pid = args.url.rstrip("/"), args.pid
    else:
        print("starting the Blur server (python -m blur_sdk serve)...", file=sys.stderr, flush=True)
        server = start_blur(env)
        url, pid = server.url, server.process.pid
    rows = []
    pr_rows: list[dict[str, Any]] = []
    try:
        info = requests.get(url + "/info/", timeout=30).json()
        if theirs:
            print(f"their method: {args.calls} calls per size...", file=sys.stderr, flush=True)
            pr_rows = measure_pr(url, pid, args.photo, args.calls)
            for pr_row in pr_rows:
                print(json.dumps(pr_row), file=sys.stderr, flush=True)
        for path in images:
            row: dict[str, Any] = {"image": path.stem, "size": "?"}
            row["floor_ms"] = floor_ms(path.read_bytes(), args.runs, quality)
            row.update(measure(url, path, args.runs, args.concurrency))
            decoded = decode_image(path.read_bytes())
            row["size"] = f"{decoded.width}x{decoded.height}"
            row["ratio"] = round(row["p50_ms"] / row["floor_ms"], 2)
            row.update(memory_mb(pid) if pid else {"rss_mb": "-", "hwm_mb": "-"})
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        load = [round(load_before, 2), round(os.getloadavg()[0], 2)]  # over the HTTP runs
    finally:
        if server is not None:
            server.stop()
    deface_about: dict[str, Any] = {}
    if args.deface:
        print("running deface (bench/deface_floor.py)...", file=sys.stderr, flush=True)
        deface_about, deface_rows = deface_figures(images, args.runs, venv=args.deface_venv)
        for row, deface in zip(rows, deface_rows, strict=True):
            row["deface"] = deface
    how = f"started, env {env}" if server is not None else f"attached {url}"
    print(
        f"\nBlur server: {how}; {info.get('mode')} mode; {args.concurrency} client(s) x "
        f"{args.runs} runs; {os.cpu_count()} CPUs, 1-min load {load[0]} -> {load[1]}; ms unless "
        f"noted; server stages: medians of its Server-Timing; floor: in-process decode + encode "
        f"(JPEG q{quality})"
    )
    if deface_about:
        print(
            f"deface: backend {deface_about['backend']} {deface_about['providers']}, "
            f"{deface_about['versions']}"
        )
    if theirs:
        print(
            f"\nPlate Recognizer's method: {args.photo.name} resized, 4 concurrent clients, "
            f"{args.calls} calls per size, POST / (upload only); Speed = wall time / calls, "
            f"call = each call's own time; theirs: benchmark_blur.md, AWS t2.large, WORKERS=1, "
            f"Blur + Snapshot peak MiB\n" + markdown_pr(pr_rows) + "\n\nOne client:"
        )
    print(markdown(rows, args.deface) + "\n")
    summary = {
        "server": how,
        "detectors": info.get("detectors"),
        "cpus": os.cpu_count(),
        "load_1min": load,
        "runs": args.runs,
        "concurrency": args.concurrency,
        "jpeg_quality": quality,
        "deface": deface_about or None,
        "images": rows,
    }
    if theirs:
        summary["platerecognizer"] = {"photo": str(args.photo), "sizes": pr_rows}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
