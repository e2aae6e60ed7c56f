"""Walk the inputs (files, folders, globs) and plan each image's output under --out, safely."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from blur_sdk.core.image.encode import EXTENSIONS

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
    | {".avif", ".heic", ".heif"}
)
KEPT_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG"}
KEPT_FORMATS.update({".png": "PNG", ".webp": "WEBP"})
PART_SUFFIX = ".part"
GLOB_CHARS = frozenset("*?[")


class PlanError(ValueError):
    """The inputs and --out cannot be run as given (nothing matched, a collision, an overwrite)."""


@dataclass(frozen=True)
class Item:
    """One image to do: where it is read, where its output goes and in which format."""

    source: Path
    output: Path
    format: str  # JPEG, PNG or WEBP

    @property
    def part(self) -> Path:
        """The temporary file the output is written to before it is renamed into place."""
        return self.output.with_name(self.output.name + PART_SUFFIX)


@dataclass
class Plan:
    """Every image found, in input order, and those whose output already exists."""

    items: list[Item] = field(default_factory=list)
    done: list[Item] = field(default_factory=list)

    @property
    def todo(self) -> list[Item]:
        """The items still to do."""
        done = set(self.done)
        return [item for item in self.items if item not in done]


def output_format(source: Path, fmt: str | None) -> str:
    """The output's format: --format, else the input's (JPEG/PNG/WEBP; any other becomes PNG)."""
    return fmt or KEPT_FORMATS.get(source.suffix.lower(), "PNG")


def output_name(source: Path, fmt: str) -> str:
    """The input's name, its extension kept when it already names the output's format."""
    if KEPT_FORMATS.get(source.suffix.lower()) == fmt:
        return source.name
    return f"{source.stem}.{EXTENSIONS[fmt]}"


def _images_under(folder: Path, recursive: bool, skip: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if recursive and (here / d).resolve() != skip)
        for name in sorted(files):
            if Path(name).suffix.lower() in IMAGE_SUFFIXES and not name.startswith("."):
                yield here / name


def _glob_base(pattern: str) -> Path:
    """The folder part of a pattern before its first wildcard: outputs mirror from there."""
    fixed: list[str] = []
    for part in Path(pattern).parts:
        if GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def expand(inputs: Iterable[str], recursive: bool, out: Path) -> list[tuple[Path, Path]]:
    """(image, folder its output path is relative to) for each image the inputs name.

    A folder gives the images below it (all depths with `recursive`), skipping `out`; a pattern
    with * ? [ ] (** for any depth) its matches; a file itself, whatever its extension.
    """
    skip = out.resolve()
    found: list[tuple[Path, Path]] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found.extend((image, path) for image in _images_under(path, recursive, skip))
        elif path.is_file():
            found.append((path, path.parent))
        elif GLOB_CHARS & set(given):
            base = _glob_base(given)
            matches = sorted(Path(m) for m in glob.glob(given, recursive=True))
            for match in matches:
                if match.resolve().is_relative_to(skip):
                    continue  # the outputs of an earlier run
                if match.is_dir():
                    found.extend((image, base) for image in _images_under(match, recursive, skip))
                elif match.is_file():
                    found.append((match, base))
            if not matches:
                raise PlanError(f"{given}: no file matches")
        else:
            raise PlanError(f"{given}: no such file or folder")
    return found


def plan(inputs: Iterable[str], out: Path, fmt: str | None = None, recursive: bool = True) -> Plan:
    """The outputs of the inputs' images under `out`, the folder structure mirrored.

    Refuses (PlanError) an output that would be an input, or two inputs with the same output.
    """
    inputs = list(inputs)
    out_real = out.resolve()
    for given in inputs:
        if Path(given).is_dir() and Path(given).resolve() == out_real:
            raise PlanError(
                f"--out {out} is the input folder {given}: its images would be replaced"
            )
    sources: dict[Path, Path] = {}
    targets: dict[Path, Item] = {}
    result = Plan()
    for image, base in expand(inputs, recursive, out):
        real = image.resolve()
        if real in sources:
            continue  # named twice (a folder and a file inside it, overlapping patterns)
        sources[real] = image
        relative = image.relative_to(base) if image.is_relative_to(base) else Path(image.name)
        fmt_out = output_format(image, fmt)
        target = out / relative.parent / output_name(image, fmt_out)
        item = Item(image, target, fmt_out)
        other = targets.get(target.resolve())
        if other is not None:
            raise PlanError(f"{other.source} and {image} would both be written to {target}")
        targets[target.resolve()] = item
        result.items.append(item)
    for real, item in targets.items():
        if real in sources or item.part.resolve() in sources:
            raise PlanError(f"{item.output} is an input: choose another --out")
    if not result.items:
        raise PlanError("no images found in " + ", ".join(inputs))
    result.done = [item for item in result.items if item.output.exists()]
    return result


def remove_stale_parts(items: Iterable[Item]) -> int:
    """Delete the temporary files a killed run left behind; how many there were."""
    removed = 0
    for item in items:
        try:
            item.part.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed


def write_atomic(item: Item, data: bytes) -> None:
    """Write the output through a temporary file renamed into place: never a partial image."""
    item.output.parent.mkdir(parents=True, exist_ok=True)
    part = item.part
    try:
        with part.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, item.output)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
