"""Planning the batch: folders mirrored, globs, names and formats, and refusals to overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blur_sdk.cli.batch import Item, PlanError, plan, remove_stale_parts, write_atomic
from tests.cli.conftest import write_tree


def outputs(items: list[Item], out: Path) -> list[str]:
    return [str(item.output.relative_to(out)) for item in items]


def test_a_folder_is_mirrored_under_out(tmp_path: Path) -> None:
    write_tree(tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    (tmp_path / "in" / ".hidden.jpg").write_bytes(b"")
    batch = plan([str(tmp_path / "in")], tmp_path / "out")
    assert outputs(batch.items, tmp_path / "out") == ["a.jpg", "sub/b.png", "sub/deeper/c.webp"]
    assert [item.format for item in batch.items] == ["JPEG", "PNG", "WEBP"]
    assert batch.done == []


def test_no_recursive_keeps_to_the_folder(tmp_path: Path) -> None:
    write_tree(tmp_path / "in")
    batch = plan([str(tmp_path / "in")], tmp_path / "out", recursive=False)
    assert outputs(batch.items, tmp_path / "out") == ["a.jpg"]


def test_files_and_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path / "in", count=5)
    monkeypatch.chdir(tmp_path)
    batch = plan(["in/a.jpg", "in/**/*.jpg", "in/sub/deeper/c.webp"], Path("out"))
    # a file goes to out/<name>; a glob mirrors from its folder before the first wildcard;
    # an image named twice is done once
    assert outputs(batch.items, Path("out")) == [
        "a.jpg",
        "sub/scene-0.jpg",
        "sub/scene-1.jpg",
        "c.webp",
    ]
    with pytest.raises(PlanError, match="no file matches"):
        plan(["in/*.tiff"], Path("out"))
    with pytest.raises(PlanError, match="no such file"):
        plan(["missing"], Path("out"))


def test_format_changes_the_extension_and_other_formats_become_png(tmp_path: Path) -> None:
    write_tree(tmp_path / "in")
    (tmp_path / "in" / "d.bmp").write_bytes(b"BM")
    batch = plan([str(tmp_path / "in")], tmp_path / "out")
    assert outputs(batch.items, tmp_path / "out")[1] == "d.png"
    batch = plan([str(tmp_path / "in")], tmp_path / "out", fmt="WEBP")
    assert outputs(batch.items, tmp_path / "out") == [
        "a.webp",
        "d.webp",
        "sub/b.webp",
        "sub/deeper/c.webp",
    ]


def test_two_inputs_with_one_output_are_refused(tmp_path: Path) -> None:
    write_tree(tmp_path / "in")
    (tmp_path / "in" / "a.png").write_bytes(b"")
    with pytest.raises(PlanError, match="would both be written to"):
        plan([str(tmp_path / "in")], tmp_path / "out", fmt="PNG")


def test_inputs_are_never_outputs(tmp_path: Path) -> None:
    images = write_tree(tmp_path / "in")
    with pytest.raises(PlanError, match="is the input folder"):
        plan([str(tmp_path / "in")], tmp_path / "in")
    with pytest.raises(PlanError, match="is the input folder"):
        plan([str(tmp_path / "in" / "sub" / "..")], tmp_path / "in")
    with pytest.raises(PlanError, match="is an input"):  # in/a.jpg -> in/a.jpg
        plan([str(images[0])], tmp_path / "in")
    with pytest.raises(PlanError, match="is an input"):  # in/sub/b.png -> in/sub/b.png
        plan([str(tmp_path / "in"), str(images[1])], tmp_path / "in" / "sub")


def test_an_out_folder_inside_the_input_is_not_walked(tmp_path: Path) -> None:
    write_tree(tmp_path / "in")
    out = tmp_path / "in" / "blurred"
    (out / "sub").mkdir(parents=True)
    (out / "a.jpg").write_bytes(b"done before")
    batch = plan([str(tmp_path / "in")], out)
    assert outputs(batch.items, out) == ["a.jpg", "sub/b.png", "sub/deeper/c.webp"]
    assert [item.output.name for item in batch.done] == ["a.jpg"]
    assert [item.output.name for item in batch.todo] == ["b.png", "c.webp"]
    batch = plan([str(tmp_path / "in" / "*")], out)  # the glob matches the out folder too
    assert outputs(batch.items, out) == ["a.jpg", "sub/b.png", "sub/deeper/c.webp"]


def test_atomic_write_and_stale_parts(tmp_path: Path) -> None:
    item = Item(tmp_path / "in.jpg", tmp_path / "out" / "deep" / "in.jpg", "JPEG")
    write_atomic(item, b"image")
    assert item.output.read_bytes() == b"image"
    assert not item.part.exists()
    item.part.write_bytes(b"half")
    assert remove_stale_parts([item]) == 1
    assert sorted(os.listdir(item.output.parent)) == ["in.jpg"]


def test_a_failed_write_leaves_no_part(tmp_path: Path) -> None:
    item = Item(tmp_path / "in.jpg", tmp_path / "out" / "x.jpg", "JPEG")
    item.output.mkdir(parents=True)  # a folder where the output should go: replace fails
    with pytest.raises(OSError):
        write_atomic(item, b"image")
    assert not item.part.exists()
