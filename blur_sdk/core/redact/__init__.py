"""Redactors: hide regions of an image, looked up by name (blur, pixelate, fill, logo, inpaint).

Each redactor is a function (image, regions, Redaction, in_place) -> the image with the regions
hidden (in_place: it may write over the image it was given, else that stays untouched); a
learned inpainter can be registered beside them without touching the pipeline or the APIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from blur_sdk.core.regions import POLYGON, Region

Image8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Redaction:
    """How the regions of one kind are hidden."""

    method: str = "blur"  # a registered redactor
    intensity: int = 10  # 1..10
    margin: float = 0.0  # polygons grow by this fraction of their size (plates: PLATE_MARGIN)
    logo: Image8 | None = None  # the "logo" redactor's RGBA image
    logo_size: float = 1.0  # the logo's size relative to the plate (0.1..1), centred on it
    screws: bool = False  # two screw heads drawn on the logo plate, as on a real plate

    def __post_init__(self) -> None:
        if not 0.1 <= self.logo_size <= 1.0:
            raise ValueError(f"logo_size must be in 0.1..1.0, got {self.logo_size}")


class Redactor(Protocol):
    """Hides regions of an image (in_place: it may write over `image` instead of copying it)."""

    def __call__(
        self, image: Image8, regions: Sequence[Region], redaction: Redaction, in_place: bool
    ) -> Image8: ...


_REDACTORS: dict[str, Redactor] = {}


def register(name: str) -> Callable[[Redactor], Redactor]:
    """Decorator registering a redactor under a name."""

    def wrap(redactor: Redactor) -> Redactor:
        _REDACTORS[name] = redactor
        return redactor

    return wrap


def redactor_names() -> tuple[str, ...]:
    """Every registered redactor."""
    _load()
    return tuple(sorted(_REDACTORS))


def redact(
    image: Image8, regions: Sequence[Region], redaction: Redaction, *, in_place: bool = False
) -> Image8:
    """The image with the regions hidden as `redaction` says: a copy, the input untouched; with
    in_place (the caller owns the image and needs it no more) the redactor may write over it
    (a full-image copy less: 25 MB at 4K)."""
    _load()
    try:
        redactor = _REDACTORS[redaction.method]
    except KeyError as e:
        raise ValueError(
            f"unknown redactor {redaction.method!r} (known: {', '.join(sorted(_REDACTORS))})"
        ) from e
    return redactor(image, regions, redaction, in_place)


def polygons_of(regions: Sequence[Region]) -> list[npt.NDArray[np.float64]]:
    """The outlines of the polygon-shaped regions."""
    return [np.asarray(r.polygon, dtype=np.float64) for r in regions if r.shape == POLYGON]


def _load() -> None:
    from blur_sdk.core.redact import blur, inpaint, logo  # noqa: F401  (they register themselves)
