"""Print the image's pinned runtime dependencies: pyproject's dependencies and all they need.

The versions are the ones installed in the running interpreter (the tested .venv), so the image
runs what the tests ran:  .venv/bin/python tools/gen_requirements.py > docker/requirements.txt
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# Pinned runtime dependencies of the Docker image (pyproject.toml's dependencies and everything
# they need), as installed in the tested .venv. Regenerate after changing pyproject.toml:
#   .venv/bin/python tools/gen_requirements.py > docker/requirements.txt
"""


def project_dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[Requirement]:
    """The [project] dependencies of pyproject.toml."""
    with pyproject.open("rb") as handle:
        return [Requirement(text) for text in tomllib.load(handle)["project"]["dependencies"]]


def closure(roots: list[Requirement]) -> dict[str, str]:
    """Installed name -> version for the roots and, recursively, what they require."""
    pinned: dict[str, str] = {}
    todo = list(roots)
    while todo:
        requirement = todo.pop()
        key = requirement.name.lower().replace("_", "-")
        if key in pinned:
            continue
        dist = metadata.distribution(requirement.name)
        pinned[key] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                todo.append(needed)
    return pinned


def main() -> int:
    """Write the lock file's text to stdout."""
    pinned = closure(project_dependencies())
    sys.stdout.write(HEADER + "".join(pinned[key] + "\n" for key in sorted(pinned)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
