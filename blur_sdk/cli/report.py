"""Per-image outcomes: the JSON-lines report, the running counts and the final summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

from blur_sdk.cli.batch import Item


@dataclass
class Outcome:
    """What became of one image: its Blur answer's detections, or the error."""

    item: Item
    width: int | None = None
    height: int | None = None
    faces: list[dict[str, Any]] = field(default_factory=list)
    plates: list[dict[str, Any]] = field(default_factory=list)
    ms: float = 0.0
    error: str | None = None
    written: bool = False  # an output file was written

    def record(self) -> dict[str, Any]:
        """The report's line for this image."""
        return {
            "image": str(self.item.source),
            "output": str(self.item.output) if self.written else None,
            "width": self.width,
            "height": self.height,
            "faces": self.faces,
            "plates": self.plates,
            "ms": round(self.ms, 1),
            "error": self.error,
        }


def detections(answer: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(faces, plates) of a Blur API answer as the report writes them."""
    faces = [{"box": f["box"], "score": f["score"]} for f in answer.get("faces", [])]
    plates = []
    for plate in answer.get("plates", []):
        result = plate.get("result", {})
        plates.append(
            {
                "box": result.get("box"),
                "score": result.get("score"),
                "dscore": result.get("dscore"),
                "text": result.get("plate"),
                "skipped": bool(plate.get("skipped", False)),
            }
        )
    return faces, plates


class Report:
    """The JSON-lines file, one line appended (and flushed) per image."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, outcome: Outcome) -> None:
        """Append the image's line."""
        self._file.write(json.dumps(outcome.record(), ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def reported_ok(path: Path) -> set[str]:
    """The images a report already lists without an error (resuming detection-only runs)."""
    done: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return done
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if isinstance(record, dict) and record.get("error") is None and "image" in record:
            done.add(str(record["image"]))
    return done


@dataclass
class Tally:
    """Running counts over the images done in this run."""

    done: int = 0
    faces: int = 0
    plates: int = 0
    failures: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """Count one image's outcome."""
        if outcome.error is not None:
            self.failures.append(outcome)
            return
        self.done += 1
        self.faces += len(outcome.faces)
        self.plates += len(outcome.plates)

    def postfix(self) -> dict[str, int]:
        """The counts the progress bar shows."""
        return {"faces": self.faces, "plates": self.plates, "failed": len(self.failures)}


def print_summary(
    tally: Tally,
    *,
    skipped: int,
    left: int,
    seconds: float,
    report: Path,
    interrupted: bool,
    out: TextIO,
) -> None:
    """The closing lines: counts, speed, where the report is, and every failure."""
    handled = tally.done + len(tally.failures)
    rate = handled / seconds if seconds > 0 else 0.0
    head = "interrupted: " if interrupted else ""
    not_started = f", {left} not started" if left else ""
    out.write(
        f"{head}{tally.done} done, {len(tally.failures)} failed, {skipped} skipped "
        f"(output already there){not_started}; {tally.faces} faces, {tally.plates} plates; "
        f"{seconds:.1f} s ({rate:.2f} images/s); report: {report}\n"
    )
    if tally.failures:
        out.write(f"failed ({len(tally.failures)}):\n")
        for failure in tally.failures:
            out.write(f"  {failure.item.source}: {failure.error}\n")
    out.flush()
