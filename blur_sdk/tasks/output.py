"""What a processor gets and gives: the Processor signature and its TaskOutput."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from blur_sdk.tasks.store import RESULT_TYPES, TaskRecord, TaskStore


@dataclass
class TaskOutput:
    """What a processor made: a result file (none when data is b"") and JSON-able info."""

    data: bytes
    ext: str
    info: dict[str, Any] = field(default_factory=dict)


Processor = Callable[[TaskRecord, TaskStore], TaskOutput]


def check_output(output: TaskOutput) -> None:
    """A processor's output must be storable: a known result type, JSON-able info."""
    if output.data and output.ext.lower().lstrip(".") not in RESULT_TYPES:
        raise ValueError(f"result extension {output.ext!r} is not one of {', '.join(RESULT_TYPES)}")
    json.dumps(output.info)  # TypeError when it is not JSON-able
