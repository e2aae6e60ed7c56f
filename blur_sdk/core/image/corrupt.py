"""The error for a damaged image file: 'image is corrupt: ' and what is wrong."""

from __future__ import annotations

from blur_sdk.errors import ImageDecodeError

PREFIX = "image is corrupt: "


def corrupt(what: str) -> ImageDecodeError:
    """The error for a damaged image: 'image is corrupt: ' and what is wrong."""
    return ImageDecodeError(PREFIX + what)
