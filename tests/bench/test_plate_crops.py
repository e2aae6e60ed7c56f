"""bench/plate_crops.py: the mean over placements (--seeds): the service rows averaged; top-1
also against what crops with disputed labels show."""

from __future__ import annotations

from typing import Any

from bench.plate_crops import Tally, disputed, mean_over_seeds


def row(path: str, hint: bool, seed: int, top1: float, found: int) -> dict[str, Any]:
    return {"set": "br", "path": path, "region_hint": hint, "seed": seed, "top1": top1,
            "topk": top1, "found": found, "top1_as_shown": top1}  # fmt: skip


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


def test_a_disputed_label_counts_against_the_label_and_as_shown() -> None:
    tally = Tally()
    tally.add("br", "AEV1534", ["AFV1534"], shown="AFV1534")  # (the crop shows AFV1534)
    tally.add("br", "ABC1234", ["ABC1234"])
    tally.add("br", "ABD1234", None)
    figures = tally.figures()
    assert figures["top1"] == 0.333 and figures["top1_as_shown"] == 0.667


def test_the_disputed_labels_name_crops_and_plate_texts() -> None:
    table = disputed("br_crops_dev")
    assert len(table) == 20 and table["images/br_0073.jpg"] == "AFV1534"
    assert all(len(text) == 7 and text[:3].isalpha() for text in table.values())
    assert disputed("eu_crops_dev") == {}
