"""Privacy measures for one image: how much of each labelled box is covered, and is it hidden."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.redact.blur import grown_plate

COVER_FOUND = 0.8  # found@cover80
COVER_WHOLE = 0.95  # found@cover95
HIDDEN_RATIO = 0.35  # edge energy left inside the box (output / input), at most
FLAT_ENERGY = 1.0  # mean |Laplacian| below this: nothing to hide (a flat patch)
FACE_SIZES = ((0, 16), (16, 32), (32, 64), (64, 1_000_000))  # labelled box height, px


@dataclass(frozen=True)
class ObjectMeasure:
    """One labelled object: its box height, the share covered and the edge energy left."""

    height: float
    cover: float
    energy_left: float

    @property
    def found(self) -> bool:
        """Covered at least 80 % by the blurred region."""
        return self.cover >= COVER_FOUND

    @property
    def whole(self) -> bool:
        """Covered at least 95 %."""
        return self.cover >= COVER_WHOLE

    @property
    def hidden(self) -> bool:
        """At most 35 % of the box's edge detail survives in the output."""
        return self.energy_left <= HIDDEN_RATIO


def blur_mask(
    shape: tuple[int, int],
    polygons: Sequence[npt.ArrayLike],
    regions: Sequence[tuple[float, float, float, float]],
    margin: float,
    face_shape: str,
) -> npt.NDArray[np.bool_]:
    """The pixels the server blurs: plate polygons grown as render grows them, face regions in
    their shape."""
    mask = np.zeros(shape, np.uint8)
    for polygon in polygons:
        quad = grown_plate(np.asarray(polygon, dtype=np.float64), margin)
        cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    for x1, y1, x2, y2 in regions:
        if face_shape == "square":
            cv2.rectangle(mask, (round(x1), round(y1)), (round(x2), round(y2)), 1, -1)
            continue
        axes = ((x2 - x1) / 2, (y2 - y1) / 2)
        if face_shape == "circle":
            axes = (max(axes), max(axes))
        centre = (round((x1 + x2) / 2), round((y1 + y2) / 2))
        cv2.ellipse(mask, centre, (round(axes[0]), round(axes[1])), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def _box_slice(box: Sequence[float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
    x2, y2 = min(shape[1], max(x1 + 1, round(box[2]))), min(shape[0], max(y1 + 1, round(box[3])))
    return slice(y1, y2), slice(x1, x2)


def coverage(mask: npt.NDArray[np.bool_], box: Sequence[float]) -> float:
    """Fraction of a labelled box covered by the mask."""
    rows, cols = _box_slice(box, mask.shape)
    patch = mask[rows, cols]
    return float(patch.mean()) if patch.size else 0.0


def edge_energy(gray: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """|Laplacian| of a grey image: the detail that makes a face or a character recognisable."""
    return np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))


def energy_left(
    before: npt.NDArray[np.float32], after: npt.NDArray[np.float32], box: Sequence[float]
) -> float:
    """Mean edge energy inside the box in the output over that in the input (0 = all removed)."""
    rows, cols = _box_slice(box, before.shape)
    base = float(before[rows, cols].mean()) if before[rows, cols].size else 0.0
    if base < FLAT_ENERGY:
        return 0.0
    return float(after[rows, cols].mean()) / base


def to_gray(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """RGB -> float grey, for edge_energy."""
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.float32)


def measure_objects(
    truth: Sequence[Sequence[float]],
    mask: npt.NDArray[np.bool_],
    before: npt.NDArray[np.uint8],
    after: npt.NDArray[np.uint8] | None,
) -> list[ObjectMeasure]:
    """Cover and edge energy left for each labelled box (energy 1.0 when nothing was rendered)."""
    energy_in = edge_energy(to_gray(before))
    energy_out = edge_energy(to_gray(after)) if after is not None else None
    out = []
    for box in truth:
        left = energy_left(energy_in, energy_out, box) if energy_out is not None else 1.0
        out.append(ObjectMeasure(float(box[3] - box[1]), coverage(mask, box), left))
    return out


def summarise(measures: Sequence[ObjectMeasure]) -> dict[str, float | int]:
    """found@cover80, found@cover95 and hidden shares of a list of objects."""
    n = max(len(measures), 1)
    return {
        "objects": len(measures),
        "found@cover80": round(sum(m.found for m in measures) / n, 3),
        "found@cover95": round(sum(m.whole for m in measures) / n, 3),
        "hidden": round(sum(m.hidden for m in measures) / n, 3),
    }


def size_table(measures: Sequence[ObjectMeasure]) -> dict[str, dict[str, float | int]]:
    """summarise() per labelled box height (<16, 16-32, 32-64, >64 px)."""
    table = {}
    for lo, hi in FACE_SIZES:
        label = f"<{hi}" if lo == 0 else (f">{lo}" if hi > 100_000 else f"{lo}-{hi}")
        table[label] = summarise([m for m in measures if lo <= m.height < hi])
    return table
