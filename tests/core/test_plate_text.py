"""Plate readings (blur_sdk.core.plates.text): cleaning, candidates from per-character
alternatives, plausible lengths."""

from __future__ import annotations

import pytest

from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.formats import Char
from blur_sdk.core.plates.text import NEAR_MISS_PRIOR, candidates, group_splits


def test_clean() -> None:
    assert plate_text.clean("ka-482 mx") == "KA482MX"
    assert plate_text.clean("B·MW 12.34") == "BMW1234"
    assert plate_text.clean("京A 12345") == "京A12345"
    assert plate_text.clean(" -·. ") == ""


def test_candidates_alternatives_and_separators() -> None:
    chars = [
        ("K", 0.95, "X", 0.02),
        ("-", 0.99, "", 0.0),  # a separator: dropped
        ("4", 0.90, "A", 0.05),
        ("0", 0.40, "O", 0.35),  # the weakest: swapped first
        (" ", 0.99, "", 0.0),
        ("1", 0.60, "", 0.3),  # no second class: the usual confusion (1 -> I) at half prob
    ]
    ranked = plate_text.candidates(chars)
    texts = [t for t, _ in ranked]
    assert texts[0] == "K401"
    assert "K4O1" in texts
    assert "K40I" in texts
    # calibrated: a format's prior x the geometric mean of the characters' probabilities
    mean = (0.95 * 0.9 * 0.4 * 0.6) ** (1 / 4)
    assert ranked[0][1] <= round(plate_text.KNOWN_PRIOR * mean, 3) + 1e-9
    assert ranked[0][1] >= round(plate_text.NO_FORMAT_PRIOR * mean, 3) - 1e-9
    assert len(ranked) <= plate_text.MAX_CANDIDATES
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_candidates_text_formats_rank_a_match_first() -> None:
    chars = [("A", 0.9, "", 0.0), ("B", 0.9, "", 0.0), ("0", 0.5, "O", 0.45)]
    assert plate_text.candidates(chars)[0][0] == "AB0"
    ranked = plate_text.candidates(chars, formats=["[a-z]{3}"])  # case-insensitive
    assert ranked[0][0] == "ABO"
    assert plate_text.candidates([("-", 0.9, "", 0.0)]) == []


def test_plausible() -> None:
    assert not plate_text.plausible("A" * (plate_text.MIN_CHARS - 1))
    assert plate_text.plausible("A" * plate_text.MIN_CHARS)
    assert plate_text.plausible("A" * plate_text.MAX_CHARS)
    assert not plate_text.plausible("A" * (plate_text.MAX_CHARS + 1))


@pytest.mark.parametrize(
    ("text", "like"),
    [("IR760", True), ("JDS191", True), ("KR37630", True), ("皖A0N718", True), ("BALA1", False),
     ("DEFEN0", False), ("1234", False), ("137520435RUMAL", False), ("台2020", False)],
)  # fmt: skip
def test_a_registration_has_5_to_8_characters_two_digits_and_a_latin_letter(
    text: str, like: bool
) -> None:
    assert plate_text.registration_like(text) is like


def sep_chars(text: str, weak: dict[int, tuple[str, float, str, float]]) -> list[Char]:
    """Confident characters (separators included), the weak ones given in full."""
    return [weak.get(i, (ch, 0.97, "", 0.0)) for i, ch in enumerate(text)]


def test_group_splits_follow_the_separators_read() -> None:
    assert group_splits(sep_chars("AB0-9333", {})) == {3}
    assert group_splits(sep_chars("AB·1234", {})) == {2}
    assert group_splits(sep_chars("AF 46", {})) == {2}
    assert group_splits(sep_chars("-ABC1234-", {})) == frozenset()  # (edges split nothing)


def test_a_separator_decides_a_letter_beside_it() -> None:
    """ "AB0-9333": the dash splits letters from digits, so the third character is an O; a
    reading without the dash leaves the choice to the scores (both fit some region's format)."""
    chars = sep_chars("AB0-9333", {2: ("0", 0.7, "O", 0.2)})
    assert candidates(chars)[0][0] == "ABO9333"
    plain = [c for c in chars if c[0] != "-"]
    assert candidates(plain)[0][0] == "AB09333"


def test_a_change_away_from_the_split_costs_nothing() -> None:
    """A UK "AB12 CDE" changes from letters to digits two characters before its split: its
    readings keep their scores; one changing just before the split ("ABI2") scores less."""
    chars = sep_chars("AB12 CDE", {1: ("B", 0.6, "8", 0.3)})
    plain = [c for c in chars if c[0] != " "]
    assert candidates(chars)[:2] == candidates(plain)[:2] == [("AB12CDE", 0.77), ("A812CDE", 0.697)]
    near = dict(candidates(chars))["ABI2CDE"]
    assert near == pytest.approx(dict(candidates(plain))["ABI2CDE"] * NEAR_MISS_PRIOR, abs=1e-3)


def test_a_reading_with_one_character_more_ranks_first_when_as_likely() -> None:
    fi = (r"[A-Z]{3}[0-9]{1,3}",)
    readings = {"KOS46": 0.997, "KOS461": 0.993, "KO546": 0.28}
    assert [t for t, _ in plate_text.ranked(readings, fi)][:2] == ["KOS461", "KOS46"]
    far = {"KOS46": 0.997, "KOS461": 0.9}  # not as likely: the shorter stays first
    assert plate_text.ranked(far, fi)[0][0] == "KOS46"
    # Without a requested format the scores decide: a fuller reading there was as often a
    # country band's or a stripe's character glued on (VE199999 for Norway's VE99999)
    assert plate_text.ranked(readings, ())[0][0] == "KOS46"
