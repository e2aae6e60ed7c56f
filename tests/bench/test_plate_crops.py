"""bench/plate_crops.py: the mean over placements (--seeds): the service rows averaged."""

from __future__ import annotations

from typing import Any

from bench.plate_crops import mean_over_seeds


def row(path: str, hint: bool, seed: int, top1: float, found: int) -> dict[str, Any]:
    return {"set": "br", "path": path, "region_hint": hint, "seed": seed, "top1": top1,
            "topk": top1, "found": found}  # fmt: skip


def test_service_rows_are_averaged_per_set_and_hint() -> None:
    rows = [
        row("crop", False, 7, 0.5, 10),  # (the crop path does not depend on the seed: left out)
        row("service", False, 7, 0.802, 490),
        row("service", True, 7, 0.834, 490),
        row("service", False, 8, 0.802, 493),
        row("service", False, 9, 0.783, 487),
    ]
    means = {m["region_hint"]: m for m in mean_over_seeds(rows)}
    assert means[False]["seeds"] == [7, 8, 9]
    assert means[False]["top1_mean"] == 0.796
    assert means[False]["top1_range"] == [0.783, 0.802]
    assert means[False]["found_mean"] == 490.0
    assert means[True]["seeds"] == [7] and means[True]["top1_mean"] == 0.834
