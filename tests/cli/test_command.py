"""The blur command in-process over a FakeEngine: outputs, report, summary, resuming, options."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.synthetic import FACE_BOX, encode, noise
from blur_sdk.cli import configure, main
from blur_sdk.cli.executors import local_job
from blur_sdk.cli.options import blur_options
from blur_sdk.core.regions import FACE, PLATE
from blur_sdk.settings import Settings
from tests.cli.conftest import write_tree
from tests.fakes import FakeEngine


def report_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser.parse_args(argv)


def test_a_tree_is_blurred_reported_and_summarised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = write_tree(tmp_path / "in", count=4)
    (tmp_path / "in" / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    before = {path: digest(path) for path in images}
    out = tmp_path / "out"

    code = main([str(tmp_path / "in"), "--out", str(out), "--workers", "2"], engine=FakeEngine())

    assert code == 1  # one image failed
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == [
        "a.jpg",
        "report.jsonl",
        "sub/b.png",
        "sub/deeper/c.webp",
        "sub/scene-0.jpg",
    ]
    assert {path: digest(path) for path in images} == before  # inputs untouched
    x0, y0, x1, y1 = (int(v) for v in FACE_BOX)
    face_before, face_after = rgb(images[0])[y0:y1, x0:x1], rgb(out / "a.jpg")[y0:y1, x0:x1]
    assert np.abs(face_before - face_after).mean() > 5  # the face is blurred
    assert Image.open(out / "sub" / "b.png").format == "PNG"
    assert Image.open(out / "sub" / "deeper" / "c.webp").format == "WEBP"

    lines = {Path(line["image"]).name: line for line in report_lines(out / "report.jsonl")}
    assert set(lines) == {"a.jpg", "b.png", "c.webp", "scene-0.jpg", "broken.jpg"}
    scene = lines["a.jpg"]
    assert scene["output"] == str(out / "a.jpg")
    assert (scene["width"], scene["height"]) == (512, 512)
    assert len(scene["faces"]) == 1 and scene["faces"][0]["score"] == 0.9
    assert scene["plates"][0]["text"] == "ka482mx"
    assert set(scene["plates"][0]["box"]) == {"xmin", "ymin", "xmax", "ymax"}
    assert scene["error"] is None and scene["ms"] > 0
    assert lines["b.png"]["faces"] == [] and lines["b.png"]["plates"] == []
    broken = lines["broken.jpg"]
    assert broken["output"] is None and "corrupt" in broken["error"]

    printed = capsys.readouterr()
    assert "5 images: 0 skipped (output already there), 5 to do" in printed.err
    summary = printed.out
    assert "4 done, 1 failed, 0 skipped" in summary
    assert "2 faces, 2 plates" in summary
    assert f"failed (1):\n  {tmp_path / 'in' / 'sub' / 'broken.jpg'}: " in summary

    # run again: everything written is skipped, only the failure is tried (and fails) again
    code = main([str(tmp_path / "in"), "--out", str(out)], engine=FakeEngine())
    assert code == 1
    assert "0 done, 1 failed, 4 skipped" in capsys.readouterr().out
    assert len(report_lines(out / "report.jsonl")) == 6
    assert not list(out.rglob("*.part"))


def test_all_good_exits_zero_and_a_rerun_does_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "in")
    args = [str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(tmp_path / "r")]
    assert main(args, engine=FakeEngine()) == 0
    engine = FakeEngine()
    assert main(args, engine=engine) == 0
    assert engine.plates.calls == []  # nothing detected again
    assert "0 done, 0 failed, 3 skipped" in capsys.readouterr().out
    assert len(report_lines(tmp_path / "r")) == 3


def test_detection_only_writes_no_images_and_resumes_from_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "in")
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "--out", str(out), "--faces", "0", "--plates", "0"]
    assert main(args, engine=FakeEngine()) == 0
    assert [p.name for p in out.iterdir()] == ["report.jsonl"]
    lines = sorted(report_lines(out / "report.jsonl"), key=lambda line: line["image"])
    assert [len(line["plates"]) for line in lines] == [1, 0, 0]
    assert all(line["output"] is None for line in lines)
    engine = FakeEngine()
    assert main(args, engine=engine) == 0
    assert engine.plates.calls == []
    assert "3 skipped" in capsys.readouterr().out


def test_exclusions_and_format(tmp_path: Path) -> None:
    write_tree(tmp_path / "in", count=1)
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "--out", str(out), "--exclude-bottom", "30"]
    assert main([*args, "--format", "png"], engine=FakeEngine()) == 0
    line = report_lines(out / "report.jsonl")[0]
    assert line["plates"] == [] and len(line["faces"]) == 1  # the plate is low in the image
    assert line["output"] == str(out / "a.png")
    assert Image.open(out / "a.png").format == "PNG"


def test_options_make_the_job_the_blur_api_would(settings: Settings, tmp_path: Path) -> None:
    logo = tmp_path / "mark.png"
    logo.write_bytes(encode(noise(32, 16), "PNG"))
    args = parsed(
        "x", "--out", "o", "--faces", "3", "--plates", "-1", "--shape", "square",
        "--exclude-top", "10", "--exclude-left", "5", "--exclude-box", "1,2,30,40",
        "--copy-metadata", "--quality", "70", "--logo", str(logo), "--skip-regexp", "^ab",
    )  # fmt: skip
    job = local_job(settings, blur_options(args))
    assert job.plates is None and job.faces is not None
    assert job.redact[FACE].intensity == 3 and PLATE not in job.redact
    assert job.face_shape == "square"
    assert (job.exclusions.top, job.exclusions.left, job.exclusions.bottom) == (10, 5, 0)
    assert job.exclusions.boxes == ((1, 2, 30, 40),)
    assert job.copy_metadata and job.jpeg_quality == 70
    assert [p.pattern for p in job.skip_patterns] == ["^ab"]

    job = local_job(settings, blur_options(parsed("x", "--out", "o", "--logo", str(logo))))
    assert job.redact[PLATE].method == "logo" and job.redact[PLATE].logo is not None
    assert job.redact[FACE].intensity == 10  # the command hides by default


def test_refusals_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path / "in", count=1)
    assert main([str(tmp_path / "in"), "--out", str(tmp_path / "in")], engine=FakeEngine()) == 2
    assert "is the input folder" in capsys.readouterr().err
    assert main([str(tmp_path / "none"), "--out", str(tmp_path / "o")], engine=FakeEngine()) == 2
    args = [str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--logo", "missing.png"]
    assert main(args, engine=FakeEngine()) == 2
    assert "logo" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "in"), "--out", "o", "--faces", "11"])
    assert exit_info.value.code == 2


def test_a_progress_bar_with_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path / "in", count=2)
    args = [str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--progress"]
    assert main(args, engine=FakeEngine()) == 0
    bar = capsys.readouterr().err
    assert "2/2" in bar and "img/s" in bar and "faces=1, plates=1, failed=0" in bar
