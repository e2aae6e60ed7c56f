"""The `blur` command's options, and the Blur API form fields they stand for (both modes)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blur_sdk.core.redact.blur import FACE_SHAPES

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MARGINS = (("top", "et"), ("bottom", "eb"), ("left", "el"), ("right", "er"))
BOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")
DEFAULT_WORKERS = 2
DEFAULT_INTENSITY = 10  # the command's purpose is hiding (the API's default is 0: find only)
HELP = "blur images, folders and globs into --out (in-process, or on Blur servers)"


def _ranged(kind: Callable[[str], float], lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from e
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is not in {lo:g}..{hi:g}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected XMIN,YMIN,XMAX,YMAX, got {text!r}") from e
    if x1 <= x0 or y1 <= y0:
        raise argparse.ArgumentTypeError(f"box {text} is inverted or empty")
    return x0, y0, x1, y1


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: inputs, --out, the Blur options, the executors, the report."""
    parser.description = HELP
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image, folder or glob")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="DIR")
    parser.add_argument("--no-recursive", dest="recursive", action="store_false",
                        help="only the images directly in the folders given")  # fmt: skip
    add_hide_options(parser)
    configure_rest(parser)


def add_hide_options(parser: argparse.ArgumentParser, *, metadata: bool = True) -> None:
    """The Blur API's fields as options: --faces, --plates, --logo, --shape, the exclusions,
    --regions, --skip-regexp (and --copy-metadata); shared by `blur` and `video`."""
    hide = parser.add_argument_group("what to hide (the Blur API's fields)")
    intensity = _ranged(int, -1, 10)
    hide.add_argument(
        "--faces",
        metavar="N",
        type=intensity,
        default=DEFAULT_INTENSITY,
        help="-1 not searched, 0 found only, 1..10 blur intensity (default 10)",
    )
    hide.add_argument(
        "--plates",
        metavar="N",
        type=intensity,
        default=DEFAULT_INTENSITY,
        help="the same for plates (default 10)",
    )
    hide.add_argument(
        "--logo",
        metavar="FILE|NAME",
        help="cover plates with this image file, or a logo of LOGOS_DIR (/logos/x.png)",
    )
    hide.add_argument("--shape", choices=FACE_SHAPES, help="face blur shape (default SHAPE)")
    percent = _ranged(float, 0, 100)
    for side, _ in MARGINS:
        hide.add_argument(
            f"--exclude-{side}",
            type=percent,
            metavar="PERCENT",
            help=f"leave detections centred in this {side} margin",
        )
    hide.add_argument(
        "--exclude-box",
        type=_box,
        action="append",
        default=[],
        metavar="XMIN,YMIN,XMAX,YMAX",
        help="leave detections centred in it (px)",
    )
    hide.add_argument(
        "--regions", metavar="CODES", help="plate region hints, comma-separated (e.g. fr,us-ca)"
    )
    hide.add_argument(
        "--skip-regexp",
        action="append",
        default=[],
        metavar="REGEX",
        help="plates read as matching are left visible (repeatable)",
    )
    if not metadata:
        parser.set_defaults(copy_metadata=None)
        return
    hide.add_argument(
        "--copy-metadata",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="copy EXIF/XMP/ICC into the outputs (default COPY_METADATA)",
    )


def configure_rest(parser: argparse.ArgumentParser) -> None:
    """The batch command's output, executor and report options."""
    write = parser.add_argument_group("output")
    write.add_argument(
        "--format",
        type=str.lower,
        choices=sorted(FORMATS),
        help="output format (default: the input's; others become PNG)",
    )
    write.add_argument(
        "--quality",
        metavar="1..100",
        type=_ranged(int, 1, 100),
        help="JPEG/WEBP quality (default JPEG_QUALITY)",
    )
    write.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="JSON lines, one per image, appended (default DIR/report.jsonl)",
    )
    write.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the progress bar on stderr (default: when it is a terminal)",
    )
    run = parser.add_argument_group("where the images are processed")
    run.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="URL",
        help="post to this Blur server instead of running in-process (repeatable)",
    )
    run.add_argument(
        "--workers",
        "-j",
        metavar="N",
        type=_ranged(int, 1, 256),
        default=DEFAULT_WORKERS,
        help="threads in-process, or requests in flight per server (default 2)",
    )
    run.add_argument(
        "--token", metavar="KEY", help="API key for servers with API_KEYS (Authorization: Token)"
    )
    run.add_argument(
        "--retries",
        metavar="N",
        type=_ranged(int, 0, 100),
        default=5,
        help="retries of a server's 429/5xx or lost connection (default 5)",
    )
    run.add_argument("--timeout", metavar="S", type=_ranged(float, 1, 3600), default=120.0,
                     help="seconds to wait for a server's answer (default 120)")  # fmt: skip


@dataclass(frozen=True)
class BlurOptions:
    """What every image gets: the Blur API fields, a logo file, and the output's shape."""

    fields: list[tuple[str, str]]  # form fields, repeated names allowed
    logo_file: tuple[str, bytes] | None  # (name, bytes) uploaded as the `logo` file
    shape: str | None
    format: str | None  # JPEG, PNG or WEBP; None: as the input
    quality: int | None

    @property
    def hides(self) -> bool:
        """Whether outputs are written (something is hidden), else detections only."""
        values = dict(self.fields)
        return int(values["faces"]) > 0 or int(values["plates"]) > 0


def blur_options(args: argparse.Namespace) -> BlurOptions:
    """The parsed arguments as Blur API fields (a --logo that is a file is read here)."""
    fields = [("faces", str(args.faces)), ("plates", str(args.plates))]
    for side, name in MARGINS:
        value = getattr(args, f"exclude_{side}")
        if value is not None:
            fields.append((name, f"{value:g}"))
    for box in args.exclude_box:
        fields.extend((name, f"{v:g}") for name, v in zip(BOX_FIELDS, box, strict=True))
    if args.regions is not None:
        fields.append(("regions", args.regions))
    fields.extend(("skip_regexp", pattern) for pattern in args.skip_regexp)
    if args.copy_metadata is not None:
        fields.append(("copy_metadata", "true" if args.copy_metadata else "false"))
    logo_file = None
    if args.logo is not None:
        path = Path(args.logo)
        if path.is_file():
            logo_file = (path.name, path.read_bytes())
        else:
            fields.append(("logo", args.logo))
    fmt = FORMATS[args.format] if args.format else None
    return BlurOptions(fields, logo_file, args.shape, fmt, args.quality)
