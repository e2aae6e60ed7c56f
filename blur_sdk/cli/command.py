"""`python -m blur_sdk blur`: plan, run the workers with a progress bar, report, summarise."""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from tqdm import tqdm

from blur_sdk.cli.batch import Item, PlanError, plan, remove_stale_parts
from blur_sdk.cli.executors import Executor, LocalExecutor, ServerExecutor, local_job, start_workers
from blur_sdk.cli.options import BlurOptions, blur_options, configure
from blur_sdk.cli.report import Outcome, Report, Tally, print_summary, reported_ok
from blur_sdk.core.find.engine import Engine
from blur_sdk.errors import BlurSdkError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set `stop` (no new image is started); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _executors(
    args: argparse.Namespace, options: BlurOptions, stop: threading.Event, engine: Engine | None
) -> list[Executor]:
    if args.server:
        if options.shape is not None:
            print("warning: --shape is not a Blur API field: the servers' SHAPE applies",
                  file=sys.stderr)  # fmt: skip
        return [
            ServerExecutor(
                url, options, stop, token=args.token, retries=args.retries, timeout=args.timeout
            )
            for _ in range(args.workers)
            for url in args.server  # interleaved: the first requests go round the servers
        ]
    from blur_sdk.settings import load_settings

    settings = load_settings()
    job = local_job(settings, options)  # the fields are checked before the models load
    if engine is None:
        from blur_sdk.server.app import build_engine

        engine = build_engine(settings, faces=job.faces is not None, remote_plates=True)
    local = LocalExecutor(engine, job)
    return [local] * args.workers


def _collect(
    threads: Sequence[threading.Thread],
    results: queue.Queue[Outcome | None],
    *,
    stop: threading.Event,
    report: Report,
    tally: Tally,
    bar: tqdm[None],
) -> None:
    ended = 0
    with stop_on_signals(stop):
        while ended < len(threads):
            try:
                outcome = results.get(timeout=0.2)
            except queue.Empty:
                continue
            if outcome is None:
                ended += 1
                continue
            report.write(outcome)
            tally.add(outcome)
            bar.set_postfix(tally.postfix(), refresh=False)
            bar.update(1)


def run(args: argparse.Namespace, engine: Engine | None = None, out: TextIO | None = None) -> int:
    """Run the command on parsed arguments; `engine` replaces the one built from the settings."""
    out = out or sys.stdout
    try:
        options = blur_options(args)
        batch = plan(args.inputs, args.out, options.format, args.recursive)
    except (PlanError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    report_path = args.report or args.out / "report.jsonl"
    stale = remove_stale_parts(batch.items)
    if options.hides:
        done = batch.done
    else:  # detections only: no output files, the report says what is done
        reported = reported_ok(report_path)
        done = [item for item in batch.items if str(item.source) in reported]
    batch.done = done
    todo: list[Item] = batch.todo
    print(f"{len(batch.items)} images: {len(done)} skipped (output already there), "
          f"{len(todo)} to do" + (f"; {stale} partial outputs removed" if stale else ""),
          file=sys.stderr)  # fmt: skip
    stop = threading.Event()
    tally = Tally()
    try:
        executors = _executors(args, options, stop, engine) if todo else []
    except BlurSdkError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    started = time.perf_counter()
    report = Report(report_path)
    results: queue.Queue[Outcome | None] = queue.Queue()
    threads = start_workers(todo, executors, stop, results)
    hidden = None if args.progress is None else not args.progress  # None: unless a terminal
    bar = tqdm(total=len(todo), unit="img", disable=hidden, file=sys.stderr, dynamic_ncols=True)
    try:
        _collect(threads, results, stop=stop, report=report, tally=tally, bar=bar)
    except KeyboardInterrupt:  # a second signal: stop waiting for the images in flight
        stop.set()
    finally:
        bar.close()
        report.close()
    handled = tally.done + len(tally.failures)
    print_summary(
        tally,
        skipped=len(done),
        left=len(todo) - handled,
        seconds=time.perf_counter() - started,
        report=report_path,
        interrupted=stop.is_set(),
        out=out,
    )
    if stop.is_set():
        return EXIT_INTERRUPTED
    return EXIT_FAILED if tally.failures else 0


def main(argv: Sequence[str] | None = None, engine: Engine | None = None) -> int:
    """The command alone: `main(["photos", "--out", "blurred"])` (tests pass a fake engine)."""
    parser = argparse.ArgumentParser(prog="blur_sdk blur")
    configure(parser)
    return run(parser.parse_args(argv), engine)
