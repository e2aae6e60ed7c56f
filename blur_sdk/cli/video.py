"""`python -m blur_sdk video IN OUT`: anonymize one video in this process, with a progress bar.

The options are the batch command's Blur API fields (--faces, --plates, --logo, --shape, the
exclusions, --regions, --skip-regexp), plus the sampling step and the tracking windows. OUT
ends in .mp4 (MPEG-4 Part 2) or .webm (VP9); it is written beside itself, then renamed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from blur_sdk.cli.options import _ranged, add_hide_options, blur_options
from blur_sdk.errors import BlurSdkError

if TYPE_CHECKING:
    from blur_sdk.core.find.engine import Engine

HELP = "anonymize a video (MP4, MOV, MKV, WEBM, AVI) into OUT (.mp4 or .webm), in-process"
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
OUTPUTS = (".mp4", ".webm")


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.description = HELP
    parser.add_argument("input", type=Path, metavar="IN", help="the video")
    parser.add_argument("output", type=Path, metavar="OUT", help="the result: .mp4 or .webm")
    add_hide_options(parser, metadata=False)
    video = parser.add_argument_group("video")
    video.add_argument(
        "--sample",
        metavar="N",
        type=_ranged(int, 1, 120),
        help="search every Nth frame (default VIDEO_SAMPLE, 1: every frame)",
    )
    window = _ranged(int, 0, 600)
    video.add_argument(
        "--look-ahead",
        metavar="FRAMES",
        type=window,
        help="frames before a detection hidden too (default max(VIDEO_WINDOW, N))",
    )
    video.add_argument(
        "--look-behind",
        metavar="FRAMES",
        type=window,
        help="frames after a detection hidden too (default max(VIDEO_WINDOW, N))",
    )
    video.add_argument("--force", "-f", action="store_true", help="replace OUT if it exists")
    video.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the progress bar on stderr (default: when it is a terminal)",
    )
    parser.set_defaults(format=None, quality=None)  # fmt: skip


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace, engine: Engine | None = None, out: TextIO | None = None) -> int:
    """Run the command on parsed arguments; `engine` replaces the one built from the settings."""
    from tqdm import tqdm

    from blur_sdk.apis.video.request import video_limits
    from blur_sdk.cli.executors import local_job
    from blur_sdk.core.video.process import anonymize_video, check_windows, track_options
    from blur_sdk.settings import load_settings

    out = out or sys.stdout
    src, dst = Path(args.input), Path(args.output)
    if dst.suffix.lower() not in OUTPUTS:
        return _usage(f"{dst}: OUT must end in .mp4 or .webm")
    if not src.is_file():
        return _usage(f"{src}: no such file")
    if dst.exists() and not args.force:
        return _usage(f"{dst} exists (--force to replace it)")
    part = dst.with_name(f".{dst.stem}.part{dst.suffix.lower()}")
    try:
        settings = load_settings()
        job = local_job(settings, blur_options(args))
        sample = args.sample or settings.video_sample
        window = max(settings.video_window, sample)
        track = track_options(
            sample,
            args.look_ahead if args.look_ahead is not None else window,
            args.look_behind if args.look_behind is not None else window,
        )
        check_windows(track, sample)
        if not job.redact:
            return _usage("nothing to hide: give --faces or --plates 1..10")
        if engine is None:
            from blur_sdk.server.app import build_engine

            engine = build_engine(settings, faces=job.faces is not None, remote_plates=True)
    except BlurSdkError as e:
        return _usage(str(e))
    hidden = None if args.progress is None else not args.progress  # None: unless a terminal
    bar = tqdm(total=None, unit="frame", disable=hidden, file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    started = time.perf_counter()
    try:
        result = anonymize_video(engine, src, part, job, sample, track=track,
                                 limits=video_limits(settings), progress=progress)  # fmt: skip
        os.replace(part, dst)
    except BlurSdkError as e:
        print(f"error: {src}: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        bar.close()
        part.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    print(f"{dst}: {result.frames} frames, {result.width}x{result.height} at {result.fps:g} fps "
          f"({result.container}, {result.codec}); searched {result.searched} frames, "
          f"{result.tracks} objects followed, {result.hidden} regions hidden; "
          f"{seconds:.1f} s ({result.frames / max(seconds, 1e-9):.1f} frames/s); "
          "no audio (not kept)", file=out)  # fmt: skip
    if result.variable_rate:
        print("warning: the input's frame rate is variable: the output's is constant "
              f"({result.fps:g} fps), its timing may differ", file=sys.stderr)  # fmt: skip
    return 0


def main(argv: list[str] | None = None, engine: Engine | None = None) -> int:
    """The command alone: `main(["in.mp4", "out.mp4"])` (tests pass a fake engine)."""
    parser = argparse.ArgumentParser(prog="blur_sdk video")
    configure(parser)
    return run(parser.parse_args(argv), engine)
