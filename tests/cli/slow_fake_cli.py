"""`python -m tests.cli.slow_fake_cli ARGS`: the blur command over a FakeEngine that takes
SLOW_FAKE_DELAY seconds (default 0.4) per image, for the interrupt tests."""

from __future__ import annotations

import os
import sys

from blur_sdk.cli import main
from tests.fakes import FakeEngine

if __name__ == "__main__":
    delay = float(os.environ.get("SLOW_FAKE_DELAY", "0.4"))
    sys.exit(main(sys.argv[1:], engine=FakeEngine(delay=delay)))
