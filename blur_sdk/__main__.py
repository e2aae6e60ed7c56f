"""Command line: fetch models, check them, print what the engine detects, blur folders, videos."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from blur_sdk.errors import BlurSdkError
from blur_sdk.settings import load_settings


def _detect(paths: list[Path]) -> int:
    from blur_sdk.core.find.base import PlateOptions
    from blur_sdk.core.find.engine import Engine
    from blur_sdk.core.image.decode import decode_image
    from blur_sdk.options import face_options, finder_config, image_limits

    settings = load_settings()
    engine = Engine.build(finder_config(settings))
    limits = image_limits(settings)
    face_opts = face_options(settings)
    for path in paths:
        decoded = decode_image(path.read_bytes(), limits)
        found = engine.detect(decoded.rgb, face_options=face_opts, plate_options=PlateOptions())
        print(
            json.dumps(
                {
                    "image": str(path),
                    "width": decoded.width,
                    "height": decoded.height,
                    "faces": [
                        {"box": f.box, "region": f.region, "score": round(f.score, 3)}
                        for f in found.faces
                    ],
                    "plates": [
                        {
                            "polygon": p.polygon,
                            "box": p.box,
                            "text": p.text,
                            "dscore": p.dscore,
                            "oscore": p.oscore,
                            "candidates": p.candidates,
                        }
                        for p in found.plates
                    ],
                    "timings_ms": {k: round(v, 1) for k, v in found.timings.items()},
                }
            )
        )
    return 0


def serve(app_factory: str, host: str, port: int) -> int:
    """Run a service under gunicorn with config/gunicorn.conf.py (as the container does)."""
    import os

    from blur_sdk import PROJECT_ROOT

    settings = load_settings()  # validate before forking: a bad value stops start-up here
    from blur_sdk.core.models.malloc import with_huge_pages
    from blur_sdk.core.models.store import load_manifest, verify_model

    for spec in load_manifest().values():
        verify_model(settings.models_dir, spec)
    conf = str(PROJECT_ROOT / "config" / "gunicorn.conf.py")
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", conf, "-b", f"{host}:{port}", app_factory]
    os.execve(sys.executable, gunicorn, with_huge_pages(dict(os.environ)))
    return 0  # pragma: no cover  (execve does not return)


def _worker() -> int:
    """A separate consumer process: the same app (models, processors), no HTTP, no threads."""
    from blur_sdk.server.app import create_app

    app = create_app(consume=False)
    tasks = app.extensions.get("blur_sdk.tasks")
    if tasks is None:
        print("error: APIS names no API with tasks (e.g. kaze)", file=sys.stderr)
        return 2
    tasks.run_worker()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m blur_sdk` and `blur-sdk`."""
    parser = argparse.ArgumentParser(prog="blur_sdk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="fetch, verify and extract the pinned models")
    commands.add_parser("check", help="verify the settings and model files, then exit")
    run = commands.add_parser("serve", help="run the Blur server (gunicorn) on host:port")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8001)
    commands.add_parser(
        "worker", help="consume the task queue (TASK_QUEUE, TASKS_DIR) until stopped"
    )
    detect = commands.add_parser("detect", help="print detections of images as JSON lines")
    detect.add_argument("images", nargs="+", type=Path)
    from blur_sdk import cli

    cli.configure(commands.add_parser("blur", help=cli.HELP))
    from blur_sdk.cli import video

    video.configure(commands.add_parser("video", help=video.HELP))
    args = parser.parse_args(argv)
    try:
        if args.command == "models":
            from blur_sdk.core.models.store import fetch_models

            for path in fetch_models(load_settings().models_dir):
                print(f"ok {path}")
            return 0
        if args.command == "check":
            from blur_sdk.core.models.store import load_manifest, verify_model

            settings = load_settings()
            for spec in load_manifest().values():
                print(f"ok {verify_model(settings.models_dir, spec)}")
            return 0
        if args.command == "serve":
            return serve("blur_sdk.server.app:create_app()", args.host, args.port)
        if args.command == "worker":
            return _worker()
        if args.command == "blur":
            return cli.run(args)
        if args.command == "video":
            return video.run(args)
        return _detect(args.images)
    except BlurSdkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
