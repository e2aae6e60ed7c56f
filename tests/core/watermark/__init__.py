"""Tests of watermark finding and removal."""


def skip_without_cjk_font(text: str) -> None:
    """Skip a test that draws Chinese text where Debian's fonts-wqy-microhei is missing."""
    import pytest

    from bench import watermark_synth as ws

    if any(ord(c) > 0x2E80 for c in text) and not ws.FONTS["cjk"].exists():
        pytest.skip("no CJK font: install Debian's fonts-wqy-microhei (.ci/run does)")
