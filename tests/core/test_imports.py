"""Every module of the core imports first in a fresh interpreter: no import cycles."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import blur_sdk

CORE = Path(blur_sdk.__file__).parent / "core"


def _modules() -> list[str]:
    names = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _import_error(module: str) -> str | None:
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    last = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
    return None if run.returncode == 0 else f"{module}: {last}"


def test_each_core_module_imports_on_its_own() -> None:
    """(geometry -> find.base -> find/__init__ -> faint_text -> geometry, and ppocr -> find.base
    -> ... -> faint_text -> ppocr were such cycles: a module that worked only when something
    else had been imported first.)"""
    modules = _modules()
    assert "blur_sdk.core.geometry" in modules and "blur_sdk.core.models.ppocr" in modules
    with ThreadPoolExecutor(4) as pool:
        errors = [e for e in pool.map(_import_error, modules) if e]
    assert not errors, errors
