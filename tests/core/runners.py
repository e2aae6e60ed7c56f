"""The tests' way to make a runner: a model file run with some of RunnerConfig's options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blur_sdk.core.models.runner import OpenVinoRunner, RunnerConfig


def runner_for(path: Path, **options: Any) -> OpenVinoRunner:
    """A new (unshared) runner of this model file with these RunnerConfig options."""
    return OpenVinoRunner(path, RunnerConfig(path.parent, **options))
