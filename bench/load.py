"""Load and soak: concurrent clients of every API against the real servers, with memory.

Usage: python bench/load.py [--clients 8 32] [--duration 30] [--apis blur snapshot ...]
       [--blur-url URL --snapshot-url URL]

Without URLs both services run as real gunicorn processes on 127.0.0.1 (real engine,
config/gunicorn.conf.py, MAX_UPLOAD_BYTES=4 MiB): the Blur server with every image API, the
plate reader on its own. One phase per --clients value, --duration seconds each: that many
clients (threads with keep-alive sessions) per synchronous API (Blur, Snapshot, Watermarkly,
FaceBlurest, text watermarks) send valid requests (the synthetic scene at a few sizes) and
invalid ones (bad fields, non-images, a bomb, oversize bodies, also chunked); a valid one must
get the API's success answer, an invalid one a refusal in that API's own error envelope
(bench/load_answers.py), anything else is an error. Kaze's clients (one per 8 of the others) submit
a watermarked scene, poll until it is done and download the result, as their sample client
does: a task that does not end in success with its image downloadable is an error (lost).
Server RSS (gunicorn master + workers, /proc VmRSS; attached: give --blur-pid/--snapshot-pid)
is sampled every --sample s. Prints the memory curve and a JSON summary: throughput, latency
p50/p90/p99, statuses and errors per phase and API.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_answers import Answer, answered_right, kaze_task_id, refused_right  # noqa: E402
from bench.load_requests import APIS, KAZE_RESULT, PATHS, SERVER_OF, Template, templates  # noqa: E402
from bench.load_tally import Tally, summarise  # noqa: E402
from bench.procutil import Server, free_port, memory_mb, start_server  # noqa: E402

SERVER_MAX_UPLOAD = 4 * 1024 * 1024
VALID_SHARE = 0.75
KAZE_SHARE = 8  # one Kaze client per this many clients of each synchronous API
TASK_WAIT = 600.0  # s a Kaze client polls one task at most before counting it lost
PHASE = ["warm-up"]  # the phase running now, for the memory curve


def post(session: requests.Session, url: str, template: Template) -> requests.Response:
    """Send one template (chunked or with `Connection: close` where it says so)."""
    headers = {"Content-Type": template.content_type}
    if template.close:
        headers["Connection"] = "close"
    body = iter([template.body]) if template.chunked else template.body
    return session.post(url + template.query, data=body, headers=headers, timeout=300)


def wait_for_task(session: requests.Session, base: str, task: str) -> str:
    """Poll a Kaze task until it ends: "downloaded" once its image came back, else its final
    status, "lost" after TASK_WAIT, or what was wrong with an answer."""
    deadline = time.monotonic() + TASK_WAIT
    while time.monotonic() < deadline:
        reply = Answer.of(session.post(base + KAZE_RESULT, json={"task_id": task}, timeout=60))
        body = reply.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            return f"result-answer-{reply.status}"
        if data["status"] != "processing":
            images = data.get("images") or [{}]
            if data["status"] != "success" or not isinstance(images[0].get("url"), str):
                return str(data["status"])
            image = Answer.of(session.get(images[0]["url"], timeout=60))
            ok = image.status == 200 and image.content_type.startswith("image/")
            return "downloaded" if ok else f"result-{image.status}"
        time.sleep(0.5)
    return "lost"


def client_loop(
    base: str, api: str, pool: list[Template], tally: Tally, *, stop: float, seed: int
) -> None:
    """One client: random requests from pool until the phase ends (a Kaze client waits
    for each accepted task to end)."""
    rng = random.Random(seed)
    valid = [t for t in pool if t.valid]
    invalid = [t for t in pool if not t.valid]
    session = requests.Session()
    while time.monotonic() < stop:
        template = rng.choice(valid if rng.random() < VALID_SHARE else invalid)
        started = time.perf_counter()
        try:
            answer = Answer.of(post(session, base + PATHS[api], template))
            status, right = str(answer.status), answered_right(api, template.valid, answer)
            if api == "kaze":
                status = str((answer.json() or {}).get("code")) if right else status
                task = kaze_task_id(answer) if template.valid else None
                if task is not None:
                    status = wait_for_task(session, base, task)
                    right = status == "downloaded"
            elif not template.valid and not refused_right(api, answer):
                status += "-not-envelope"
        except (requests.RequestException, ValueError):
            status, right = "conn-error", False
            session = requests.Session()
        tally.add(template, status, right, time.perf_counter() - started)


def start_services(workers: int, threads: int, apis: list[str], scratch: Path) -> dict[str, Server]:
    """The Blur server (every image API) and the plate reader under gunicorn on 127.0.0.1,
    their licence state and tasks in `scratch`."""
    wanted = {SERVER_OF.get(api, "blur") for api in apis}
    apps = {
        "blur": "blur_sdk.server.app:create_app()",
        "snapshot": "snapshot_stub.app:create_app()",
    }
    env = {
        "MAX_UPLOAD_BYTES": str(SERVER_MAX_UPLOAD),
        "WORKERS": str(workers),
        "THREADS": str(threads),
        "LICENSE_DIR": str(scratch / "licence"),
        "TASKS_DIR": str(scratch / "tasks"),
        "LOG_LEVEL": "warning",
        "TEXTMARK_QPS": "0",  # (its default, 2 per second per app, would refuse most of them)
    }
    servers: dict[str, Server] = {}
    for name in sorted(wanted):
        port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
        cmd += ["-b", f"127.0.0.1:{port}", apps[name]]
        servers[name] = start_server(cmd, port, env, timeout=300)
    return servers


def sampler(
    pids: dict[str, int], curve: list[dict[str, Any]], stop: threading.Event, every: float
) -> None:
    """Append {t, phase, RSS per server} every `every` seconds until stop is set."""
    t0 = time.monotonic()
    while True:
        point: dict[str, Any] = {"t": round(time.monotonic() - t0, 1), "phase": PHASE[0]}
        point.update({f"{name}_rss_mb": memory_mb(pid)["rss_mb"] for name, pid in pids.items()})
        curve.append(point)
        print(json.dumps(point), flush=True)
        if stop.wait(every):
            return


def run_phase(
    bases: dict[str, str], pools: dict[str, list[Template]], clients: int, duration: float
) -> dict[str, Any]:
    """`clients` threads per API (Kaze: one per KAZE_SHARE) for `duration` seconds; a
    summary per API (Kaze's clients finish the task they are waiting for)."""
    tallies = {api: Tally() for api in bases}
    stop = time.monotonic() + duration
    threads = []
    for api, base in bases.items():
        count = max(1, clients // KAZE_SHARE) if api == "kaze" else clients
        for i in range(count):
            options = {"stop": stop, "seed": clients * 1000 + i}
            args = (base, api, pools[api], tallies[api])
            threads.append(threading.Thread(target=client_loop, args=args, kwargs=options))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {api: summarise(tally, elapsed) for api, tally in tallies.items()}


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--apis", nargs="+", choices=APIS, default=list(APIS))
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


def warm_up(bases: dict[str, str], pools: dict[str, list[Template]]) -> None:
    """Send every valid synchronous request once: the first of each size compiles shapes."""
    for api, base in bases.items():
        for template in (t for t in pools[api] if t.valid and api != "kaze"):
            post(requests.Session(), base + PATHS[api], template)


def print_curve(curve: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Print the memory curve; return start/end/max RSS per server."""
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
    scratch = tempfile.TemporaryDirectory(prefix="blur-sdk-load-")  # the servers' state
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
        servers = start_services(args.workers, args.threads, args.apis, Path(scratch.name))
        urls = {name: server.url for name, server in servers.items()}
        pids = {name: server.process.pid for name, server in servers.items()}
        body_limit = SERVER_MAX_UPLOAD * 4 // 3 + 256 * 1024  # as blur_sdk.server.service sets it
        oversize = int(args.oversize_mb * 1024 * 1024) or body_limit + 512 * 1024
    bases = {
        api: urls[SERVER_OF.get(api, "blur")]
        for api in args.apis
        if SERVER_OF.get(api, "blur") in urls
    }
    rng = random.Random(7)
    pools = {api: templates(api, oversize, rng) for api in bases}
    curve: list[dict[str, Any]] = []
    stop = threading.Event()
    phases = []
    try:
        warm_up(bases, pools)
        watcher = threading.Thread(target=sampler, args=(pids, curve, stop, args.sample))
        watcher.start()
        for clients in args.clients:
            PHASE[0] = f"{clients}-clients"
            print(f"phase: {clients} clients per API for {args.duration:g} s", flush=True)
            result = run_phase(bases, pools, clients, args.duration)
            phases.append({"clients": clients, "duration_s": args.duration, **result})
            print(json.dumps(phases[-1]), flush=True)
        stop.set()
        watcher.join()
    finally:
        stop.set()
        for server in servers.values():
            server.stop()
        scratch.cleanup()
    how = f"gunicorn, {args.workers} worker(s) x {args.threads} threads, started by bench/load.py"
    summary = {
        "servers": "attached" if attached else how,
        "cpu_cores": os.cpu_count(),
        "valid_share": VALID_SHARE,
        "phases": phases,
        "memory": print_curve(curve, list(pids)),
        "total_errors": sum(p[api]["errors"] for p in phases for api in bases),
    }
    print(json.dumps(summary, indent=2))
    return 0 if summary["total_errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
