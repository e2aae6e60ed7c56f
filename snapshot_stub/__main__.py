"""Development server: `python -m snapshot_stub [--host H] [--port P]` (env HOST, PORT)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from blur_sdk.errors import BlurSdkError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from e
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1..65535")
    return port


def main(argv: list[str] | None = None) -> int:
    """Load settings and models, then serve with Werkzeug's threaded server until stopped."""
    parser = argparse.ArgumentParser(prog="python -m snapshot_stub", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", DEFAULT_HOST))
    parser.add_argument("--port", type=_port, default=os.environ.get("PORT", str(DEFAULT_PORT)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from snapshot_stub.app import create_app

    try:
        app = create_app()
    except BlurSdkError as e:
        print(f"snapshot_stub: cannot start: {e}", file=sys.stderr)
        return 2
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
