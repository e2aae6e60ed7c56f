"""A floor for the face part: `deface` (ORB-HD/deface 1.5.0, MIT) on the same images.

Usage: python bench/deface_floor.py [IMAGE ...] [--runs 15] [--venv /tmp/deface-venv]
       [--backend auto|onnxrt|opencv] [--provider CPUExecutionProvider]

deface is not a dependency of this project: the script makes its own venv (created, and
`deface==1.5.0 onnx onnxruntime` installed into it, when missing) and runs deface there, in a
subprocess. Per image (default ../shared/bench/*.jpg): one warm-up, then --runs times: read the
JPEG bytes (imageio, as deface does), CenterFace at deface's defaults (native resolution,
threshold 0.2), anonymize_frame (blur, ellipse, mask scale 1.3), write a JPEG to memory
(imageio, as deface writes files). Prints one JSON line per image: median ms of the whole and of
each step (`detect_ms` = detection alone), faces found, and deface's backend / ONNX Runtime
provider. bench/latency.py --deface imports deface_figures() from here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"
DEFAULT_VENV = Path("/tmp/deface-venv")
PACKAGES = ("deface==1.5.0", "onnx", "onnxruntime")  # onnx + onnxruntime: deface's onnxrt backend

# Runs inside the deface venv: argv[1] is a JSON object {images, runs, backend, provider}.
RUNNER = r"""
import contextlib, json, os, statistics, sys, time
import imageio, imageio.v2 as iio
import deface
from deface.centerface import CenterFace
from deface.deface import anonymize_frame

args = json.loads(sys.argv[1])
provider = args["provider"] if args["backend"] != "opencv" else None
with contextlib.redirect_stdout(sys.stderr):  # CenterFace prints "Running on <provider>."
    centerface = CenterFace(
        in_shape=None, backend=args["backend"], override_execution_provider=provider
    )
session = getattr(centerface, "sess", None)
versions = {"deface": deface.__version__, "imageio": imageio.__version__}
try:
    import onnxruntime
    versions["onnxruntime"] = onnxruntime.__version__
except ImportError:
    pass
import cv2
versions["opencv"] = cv2.__version__
about = {
    "backend": centerface.backend,
    "providers": session.get_providers() if session is not None else [],
    "versions": versions,
    "cpus": os.cpu_count(),
}
print(json.dumps({"about": about}), flush=True)


def once(data):
    t0 = time.perf_counter()
    frame = iio.imread(data)  # deface: iio.imread(path); here the bytes, as a server gets them
    t1 = time.perf_counter()
    dets, _ = centerface(frame, threshold=0.2)  # deface's --thresh default
    t2 = time.perf_counter()
    anonymize_frame(
        dets, frame, mask_scale=1.3, replacewith="blur", ellipse=True,
        draw_scores=False, replaceimg=None, mosaicsize=20,
    )  # deface's defaults: --mask-scale 1.3, --replacewith blur, ellipse (no --boxes)
    t3 = time.perf_counter()
    out = imageio.v3.imwrite("<bytes>", frame, extension=".jpg")  # what imageio.imsave writes
    t4 = time.perf_counter()
    ms = [(b - a) * 1000 for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t0, t4))]
    return ms, len(dets), len(out), frame.shape


for path in args["images"]:
    data = open(path, "rb").read()
    once(data)  # warm-up: onnxruntime plans each new input shape on first use
    samples = []
    for _ in range(args["runs"]):
        ms, faces, out_bytes, shape = once(data)
        samples.append(ms)
    med = [round(statistics.median(column), 1) for column in zip(*samples)]
    row = {"image": os.path.basename(path), "size": f"{shape[1]}x{shape[0]}"}
    row.update(zip(("read_ms", "detect_ms", "blur_ms", "encode_ms", "total_ms"), med))
    row.update(faces=faces, out_bytes=out_bytes, runs=args["runs"], backend=about["backend"])
    print(json.dumps(row), flush=True)
"""


def venv_python(venv: Path) -> Path:
    """The venv's interpreter."""
    return venv / "bin" / "python"


def ensure_venv(venv: Path, *, quiet: bool = False) -> Path:
    """Create venv with deface (+ onnx, onnxruntime) unless it already imports them."""
    python = venv_python(venv)
    check = [
        str(python),
        "-c",
        "import deface, onnx, onnxruntime; assert deface.__version__ == '1.5.0'",
    ]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    if not quiet:
        print(f"installing {' '.join(PACKAGES)} into {venv} ...", file=sys.stderr, flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES]
    subprocess.run(pip, check=True, stdout=sys.stderr)
    subprocess.run(check, check=True)
    return python


def deface_figures(
    images: list[Path],
    runs: int,
    *,
    venv: Path = DEFAULT_VENV,
    backend: str = "auto",
    provider: str = "CPUExecutionProvider",
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run deface in its venv on images; (about the backend, one row per image)."""
    python = ensure_venv(venv)
    options = {
        "images": [str(p.resolve()) for p in images],
        "runs": runs,
        "backend": backend,
        "provider": provider,
    }
    process = subprocess.Popen(
        [str(python), "-c", RUNNER, json.dumps(options)],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/tmp",  # not the project root: nothing of ours on deface's sys.path
    )
    about: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    assert process.stdout is not None
    for line in process.stdout:
        item = json.loads(line)
        if "about" in item:
            about = item["about"]
        else:
            rows.append(item)
            if on_row is not None:
                on_row(item)
    if process.wait() != 0:
        raise RuntimeError(f"deface runner exited with {process.returncode}")
    return about, rows


def main() -> int:
    """Print deface's backend, then one JSON line per image."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--backend", choices=("auto", "onnxrt", "opencv"), default="auto")
    parser.add_argument("--provider", default="CPUExecutionProvider", help="onnxrt only")
    args = parser.parse_args()
    images = args.images or sorted(BENCH.glob("*.jpg"))
    if not images:
        print(f"no images given and none in {BENCH} (is ../shared present?)")
        return 1

    def show(row: dict[str, Any]) -> None:
        print(json.dumps(row), flush=True)

    about, _ = deface_figures(
        images,
        args.runs,
        venv=args.venv,
        backend=args.backend,
        provider=args.provider,
        on_row=show,
    )
    print(json.dumps({"deface": about}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
