"""Container health probe: GET /info/ on this container's server; exit 0 if it answers.

Usage: python docker/healthcheck.py [PORT ...]. Without ports it probes the port of $BIND when
set, else 8001 (blur) and 8080 (snapshot): one image serves either role, and only the role's
own server listens. Any HTTP answer below 500 counts as healthy (401: /info/ needs an API key).
Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = (8001, 8080)
WILDCARDS = ("", "0.0.0.0", "::", "[::]", "*")


def targets(argv: list[str], bind: str) -> list[str]:
    """The /info/ URLs to probe, from the command line, else $BIND, else the default ports."""
    if argv:
        return [f"http://127.0.0.1:{int(port)}/info/" for port in argv]
    if bind:
        host, _, port = bind.rpartition(":")
        host = "127.0.0.1" if host in WILDCARDS else host
        return [f"http://{host}:{int(port)}/info/"]
    return [f"http://127.0.0.1:{port}/info/" for port in DEFAULT_PORTS]


def probe(url: str, timeout: float = 4.0) -> int | None:
    """The HTTP status of GET url, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, OSError):
        return None


def main(argv: list[str]) -> int:
    """Exit status 0 when one of the targets answers below 500, else 1."""
    try:
        urls = targets(argv, os.environ.get("BIND", "").strip())
    except ValueError as e:
        print(f"healthcheck: bad port: {e}", file=sys.stderr)
        return 1
    for url in urls:
        status = probe(url)
        if status is not None and status < 500:
            return 0
        print(f"healthcheck: {url}: {status or 'no answer'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
