"""Fixture trees for the batch command: small synthetic images in nested folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synthetic import encode, noise, scene_with_plate

SCENE_JPEG = encode(scene_with_plate(), "JPEG", quality=90)


def write_tree(root: Path, count: int = 3) -> list[Path]:
    """`count` images in root and root/sub/deeper: JPEG scenes, a PNG and a WEBP; their paths."""
    kinds = [
        ("a.jpg", SCENE_JPEG),
        ("sub/b.png", encode(noise(64, 48), "PNG")),
        ("sub/deeper/c.webp", encode(noise(40, 40, seed=3), "WEBP")),
    ]
    kinds += [(f"sub/scene-{i}.jpg", SCENE_JPEG) for i in range(count - len(kinds))]
    paths = []
    for name, data in kinds[:count]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process path loads Settings from the environment: no config files, defaults."""
    monkeypatch.setenv("CONFIG_DIR", str(tmp_path / "no-config"))
    for name in ("SHAPE", "LOGO", "COPY_METADATA", "JPEG_QUALITY", "SDK_URL", "FACES", "PLATES"):
        monkeypatch.delenv(name, raising=False)
