"""The package's layering, read from its source: the core imports no edge (settings, options,
server, APIs, licence) and no web framework, at any depth; every module is short and says what
it is for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from blur_sdk import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "blur_sdk"
CORE = PACKAGE / "core"
FORBIDDEN_IN_CORE = (
    "blur_sdk.settings",
    "blur_sdk.options",
    "blur_sdk.server",
    "blur_sdk.apis",
    "blur_sdk.licence",
    "flask",
    "werkzeug",
)
MAX_LINES = 320


def modules(root: Path) -> list[Path]:
    """Every Python module below root, sorted."""
    return sorted(root.rglob("*.py"))


def module_name(path: Path) -> str:
    """blur_sdk/core/find/engine.py -> blur_sdk.core.find.engine (a package: its __init__)."""
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(text: str, module: str, is_package: bool = False) -> set[str]:
    """Every module that a module's text imports anywhere (in functions, branches, TYPE_CHECKING
    blocks too), as absolute dotted names; `from a import b` counts as a and a.b."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)  # importlib.import_module("...")
    return found


def imports_of(path: Path) -> set[str]:
    """imported() of a module file of the package."""
    return imported(path.read_text(), module_name(path), path.name == "__init__.py")


def forbidden(names: set[str]) -> list[str]:
    """The names that are, or lie inside, a module the core must not import."""
    return sorted(
        n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN_IN_CORE)
    )


def test_the_import_reader_sees_every_form() -> None:
    """imported() on a core module's text that hides imports wherever one could hide."""
    text = """
import flask
from werkzeug.test import Client
from .. import regions
from ...server import app
from ... import options as o
from .base import PlateFinder
def late():
    import blur_sdk.settings
    from blur_sdk.licence.manager import LicenceManager
    importlib.import_module("blur_sdk.apis.blur")
"""
    names = imported(text, "blur_sdk.core.find.engine")
    assert forbidden(names) == [
        "blur_sdk.apis.blur",
        "blur_sdk.licence.manager",
        "blur_sdk.licence.manager.LicenceManager",
        "blur_sdk.options",
        "blur_sdk.server",
        "blur_sdk.server.app",
        "blur_sdk.settings",
        "flask",
        "werkzeug.test",
        "werkzeug.test.Client",
    ]
    assert {"blur_sdk.core.regions", "blur_sdk.core.find.base.PlateFinder"} <= names
    assert "blur_sdk.core.find.x" in imported("from . import x", "blur_sdk.core.find", True)


@pytest.mark.parametrize("path", modules(CORE), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_core_imports_no_edge_and_no_web_framework(path: Path) -> None:
    assert forbidden(imports_of(path)) == [], f"{module_name(path)} imports the edge"


def test_the_core_has_modules() -> None:
    assert len(modules(CORE)) >= 20  # the glob found the package


@pytest.mark.parametrize("path", modules(PACKAGE), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_module_is_short_and_has_a_docstring(path: Path) -> None:
    text = path.read_text()
    lines = len(text.splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PROJECT_ROOT)}: {lines} lines > {MAX_LINES}"
    docstring = ast.get_docstring(ast.parse(text, filename=str(path)))
    assert docstring and docstring.strip(), f"{path.relative_to(PROJECT_ROOT)} has no docstring"
