"""Load and soak: N concurrent clients against the Blur and Snapshot services, with memory.

Usage: python bench/load.py [--clients 8 32] [--duration 30] [--blur-url URL --snapshot-url URL]

Without URLs both services run as real gunicorn processes on 127.0.0.1 (real engine,
config/gunicorn.conf.py, MAX_UPLOAD_BYTES=4 MiB). One phase per --clients value, --duration
seconds each; every client is a thread with a keep-alive session sending valid requests (the
synthetic scene at a few sizes) and invalid ones (bad fields, non-images, a bomb, oversize
bodies, also chunked). Valid must answer 200 (Blur) / 201 (Snapshot), invalid a 4xx JSON:
anything else is an error. Server RSS (gunicorn master + workers, /proc VmRSS; attached: give
--blur-pid/--snapshot-pid) is sampled every --sample s. Prints the memory curve and a JSON
summary: throughput, latency p50/p90/p99, statuses and errors per phase and service.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import struct
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import requests
from urllib3 import encode_multipart_formdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procutil import Server, free_port, memory_mb, start_server  # noqa: E402
from bench.synthetic import encode, scene_with_plate  # noqa: E402

SERVER_MAX_UPLOAD = 4 * 1024 * 1024
VALID_SHARE = 0.75
SIZES = (320, 512, 1024)
PHASE = ["warm-up"]  # the phase running now, for the memory curve
PATHS = {"blur": "/v1/blur", "snapshot": "/v1/plate-reader/"}
OK_STATUS = {"blur": 200, "snapshot": 201}
BOMB = b"GIF89a" + struct.pack("<HHBBB", 30000, 30000, 0, 0, 0) + b",\0\0\0\0"
BOMB += struct.pack("<HHB", 30000, 30000, 0) + b"\x02\x02\x4c\x01\x00;"  # 30000x30000 px


@dataclasses.dataclass(frozen=True)
class Template:
    """One prepared request: body bytes, headers, and whether it is valid."""

    name: str
    body: bytes
    content_type: str
    valid: bool
    close: bool = False  # send `Connection: close` (bodies the server will not read)
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length


def scenes() -> dict[int, bytes]:
    """The synthetic scene (face + plate) as JPEG at each size of SIZES."""
    scene = scene_with_plate()
    out = {}
    for size in SIZES:
        resized = cv2.resize(scene, (size, size), interpolation=cv2.INTER_AREA)
        out[size] = encode(resized, "JPEG", quality=90)
    return out


def templates(service: str, oversize_bytes: int, rng: random.Random) -> list[Template]:
    """Valid and invalid requests for one service."""
    images = scenes()
    valid: list[Template] = []
    for size, data in images.items():
        for _ in range(4):
            fields: dict[str, Any] = {"upload": (f"scene{size}.jpg", data, "image/jpeg")}
            if service == "blur":
                fields["faces"] = str(rng.choice([-1, 0, 3, 10]))
                fields["plates"] = str(rng.choice([-1, 0, 5, 10]))
            else:
                fields["regions"] = rng.choice(["gb", "us-ca", "fr,de"])
            body, ctype = encode_multipart_formdata(fields)
            valid.append(Template(f"valid-{size}", body, ctype, True))
    small = images[SIZES[0]]
    bad_fields: list[tuple[str, dict[str, Any]]] = [
        ("not-an-image", {"upload": ("a.jpg", b"hello, not an image" * 10)}),
        ("truncated", {"upload": ("a.jpg", small[: len(small) // 3])}),
        ("bomb-30000px", {"upload": ("bomb.gif", BOMB)}),
        ("no-upload", {"camera_id": "x"}),
        ("deep-json", {"upload": ("a.jpg", small), "config": "[" * 5000 + "]" * 5000}),
        ("bad-regex", {"upload": ("a.jpg", small), "config": '{"text_formats": ["(a|aa)+"]}'}),
    ]
    if service == "blur":
        bad_fields += [
            ("faces-nan", {"upload": ("a.jpg", small), "faces": "nan"}),
            ("skip-regexp", {"upload": ("a.jpg", small), "skip_regexp": "(a+)+$"}),
            ("logo-traversal", {"upload": ("a.jpg", small), "logo": "../../etc/passwd"}),
        ]
    else:
        bad_fields += [
            ("timestamp", {"upload": ("a.jpg", small), "timestamp": "yesterday"}),
            ("regions", {"upload": ("a.jpg", small), "regions": "../x"}),
        ]
    invalid = [
        Template(name, *encode_multipart_formdata(fields), False) for name, fields in bad_fields
    ]
    big, ctype = encode_multipart_formdata({"upload": ("big.jpg", os.urandom(oversize_bytes))})
    invalid.append(Template("oversize", big, ctype, False, close=True))
    invalid.append(Template("oversize-chunked", big, ctype, False, close=True, chunked=True))
    return valid + invalid


@dataclasses.dataclass
class Tally:
    """What one phase saw for one service."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    valid_latencies: list[float] = dataclasses.field(default_factory=list)
    statuses: Counter[str] = dataclasses.field(default_factory=Counter)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def add(self, service: str, template: Template, status: str, seconds: float) -> None:
        """Record one answer: its status code, "conn-error", or "<code>-not-json"."""
        if template.valid:
            expected = status == str(OK_STATUS[service])
        else:
            expected = status.isdigit() and 400 <= int(status) < 500
        with self.lock:
            self.latencies.append(seconds)
            if template.valid:
                self.valid_latencies.append(seconds)
            self.statuses[status] += 1
            if not expected:
                self.errors[f"{template.name}->{status}"] += 1


def client_loop(
    url: str, service: str, pool: list[Template], tally: Tally, *, stop: float, seed: int
) -> None:
    """One client: random requests from pool until the phase ends."""
    rng = random.Random(seed)
    valid = [t for t in pool if t.valid]
    invalid = [t for t in pool if not t.valid]
    session = requests.Session()
    while time.monotonic() < stop:
        template = rng.choice(valid if rng.random() < VALID_SHARE else invalid)
        headers = {"Content-Type": template.content_type}
        if template.close:
            headers["Connection"] = "close"
        body = iter([template.body]) if template.chunked else template.body
        started = time.perf_counter()
        try:
            response = session.post(url, data=body, headers=headers, timeout=300)
            status = str(response.status_code)
            if response.status_code >= 400 and not is_error_json(response.text):
                status += "-not-json"
        except requests.RequestException:
            status = "conn-error"
            session = requests.Session()
        tally.add(service, template, status, time.perf_counter() - started)


def is_error_json(text: str) -> bool:
    """Whether a refusal's body is {"error": "..."}, as every refusal must be."""
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values, in milliseconds."""
    ordered = sorted(values) or [0.0]
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1)


def summarise(tally: Tally, seconds: float) -> dict[str, Any]:
    """Throughput, latency percentiles and status counts of one phase and service."""
    count = len(tally.latencies)
    return {
        "requests": count,
        "throughput_rps": round(count / seconds, 2),
        "p50_ms": percentile(tally.latencies, 0.50),
        "p90_ms": percentile(tally.latencies, 0.90),
        "p99_ms": percentile(tally.latencies, 0.99),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if count else 0.0,
        "valid_requests": len(tally.valid_latencies),
        "valid_p50_ms": percentile(tally.valid_latencies, 0.50),
        "valid_p99_ms": percentile(tally.valid_latencies, 0.99),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
    }


def start_services(workers: int, threads: int) -> dict[str, Server]:
    """Both services under gunicorn on free ports of 127.0.0.1."""
    apps = {
        "blur": "blur_sdk.server.app:create_app()",
        "snapshot": "snapshot_stub.app:create_app()",
    }
    env = {
        "MAX_UPLOAD_BYTES": str(SERVER_MAX_UPLOAD),
        "WORKERS": str(workers),
        "THREADS": str(threads),
        "LICENSE_DIR": str(Path("/tmp") / f"blur-sdk-load-{os.getpid()}"),
        "LOG_LEVEL": "warning",
    }
    servers: dict[str, Server] = {}
    for name, app in apps.items():
        port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
        cmd += ["-b", f"127.0.0.1:{port}", app]
        servers[name] = start_server(cmd, port, env, timeout=300)
    return servers


def sampler(
    pids: dict[str, int], curve: list[dict[str, Any]], stop: threading.Event, every: float
) -> None:
    """Append {t, phase, RSS per service} every `every` seconds until stop is set."""
    t0 = time.monotonic()
    while True:
        point: dict[str, Any] = {"t": round(time.monotonic() - t0, 1), "phase": PHASE[0]}
        point.update({f"{name}_rss_mb": memory_mb(pid)["rss_mb"] for name, pid in pids.items()})
        curve.append(point)
        print(json.dumps(point), flush=True)
        if stop.wait(every):
            return


def run_phase(
    urls: dict[str, str], pools: dict[str, list[Template]], clients: int, duration: float
) -> dict[str, Any]:
    """`clients` threads per service for `duration` seconds; a summary per service."""
    tallies = {name: Tally() for name in urls}
    stop = time.monotonic() + duration
    threads = []
    for name, url in urls.items():
        for i in range(clients):
            loop_args = (url + PATHS[name], name, pools[name], tallies[name])
            options = {"stop": stop, "seed": clients * 1000 + i}
            thread = threading.Thread(target=client_loop, args=loop_args, kwargs=options)
            threads.append(thread)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {name: summarise(tally, elapsed) for name, tally in tallies.items()}


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--blur-url", default="", help="attach instead of starting servers")
    parser.add_argument("--snapshot-url", default="")
    parser.add_argument("--blur-pid", type=int, default=0, help="gunicorn master, for RSS")
    parser.add_argument("--snapshot-pid", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn WORKERS (started)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn THREADS (started)")
    parser.add_argument("--sample", type=float, default=5.0, help="RSS sampling period (s)")
    parser.add_argument(
        "--oversize-mb", type=float, default=0.0, help="oversize body size (default: over limit)"
    )
    return parser.parse_args()


def warm_up(urls: dict[str, str], pools: dict[str, list[Template]]) -> None:
    """Send every valid request once: the first of each size compiles the models' shapes."""
    for name, url in urls.items():
        for template in (t for t in pools[name] if t.valid):
            headers = {"Content-Type": template.content_type}
            requests.post(url + PATHS[name], data=template.body, headers=headers, timeout=300)


def print_curve(curve: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Print the memory curve; return start/end/max RSS per service."""
    print("\nmemory curve (RSS MiB, gunicorn master + workers):")
    print("  t(s)  phase        " + "  ".join(f"{n:>9}" for n in names))
    for point in curve:
        row = "  ".join(f"{point[f'{n}_rss_mb']:9.1f}" for n in names)
        print(f"{point['t']:6.0f}  {point['phase']:<11}  {row}")
    if not curve:
        return {}
    return {
        name: {
            "start_mb": curve[0][f"{name}_rss_mb"],
            "end_mb": curve[-1][f"{name}_rss_mb"],
            "max_mb": max(p[f"{name}_rss_mb"] for p in curve),
        }
        for name in names
    }


def main() -> int:
    """Run the phases and print the memory curve and the JSON summary."""
    args = parse_args()
    attached = bool(args.blur_url or args.snapshot_url)
    servers: dict[str, Server] = {}
    if attached:
        given = {
            "blur": (args.blur_url, args.blur_pid),
            "snapshot": (args.snapshot_url, args.snapshot_pid),
        }
        urls = {name: url.rstrip("/") for name, (url, _) in given.items() if url}
        pids = {name: pid for name, (url, pid) in given.items() if url and pid}
        oversize = int((args.oversize_mb or 40) * 1024 * 1024)
    else:
        print("starting gunicorn for both services (models load per worker)...", flush=True)
        servers = start_services(args.workers, args.threads)
        urls = {name: server.url for name, server in servers.items()}
        pids = {name: server.process.pid for name, server in servers.items()}
        body_limit = SERVER_MAX_UPLOAD * 4 // 3 + 256 * 1024  # as blur_sdk.server.service sets it
        oversize = int(args.oversize_mb * 1024 * 1024) or body_limit + 512 * 1024
    rng = random.Random(7)
    pools = {name: templates(name, oversize, rng) for name in urls}
    curve: list[dict[str, Any]] = []
    stop = threading.Event()
    phases = []
    try:
        warm_up(urls, pools)
        watcher = threading.Thread(target=sampler, args=(pids, curve, stop, args.sample))
        watcher.start()
        for clients in args.clients:
            PHASE[0] = f"{clients}-clients"
            print(f"phase: {clients} clients per service for {args.duration:g} s", flush=True)
            result = run_phase(urls, pools, clients, args.duration)
            phases.append({"clients": clients, "duration_s": args.duration, **result})
            print(json.dumps(phases[-1]), flush=True)
        stop.set()
        watcher.join()
    finally:
        stop.set()
        for server in servers.values():
            server.stop()
    how = f"gunicorn, {args.workers} worker(s) x {args.threads} threads, started by bench/load.py"
    summary = {
        "servers": "attached" if attached else how,
        "cpu_cores": os.cpu_count(),
        "valid_share": VALID_SHARE,
        "phases": phases,
        "memory": print_curve(curve, list(pids)),
        "total_errors": sum(p[s]["errors"] for p in phases for s in urls),
    }
    print(json.dumps(summary, indent=2))
    return 0 if summary["total_errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
