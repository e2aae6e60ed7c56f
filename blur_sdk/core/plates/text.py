"""Plate text: clean a recogniser reading to plate characters and rank its candidates."""

from __future__ import annotations

import re
from collections.abc import Sequence

PLATE_CHAR = re.compile(r"[0-9A-Z\u4e00-\u9fff]")
MAX_CANDIDATES = 5
MIN_CHARS = 3  # 2-character readings were mostly badges and signs on openlpr_val
MAX_CHARS = 12
# User regexes (skip_regexp, text_formats) only ever run on texts this short, which bounds
# their cost together with the backtracking-path limit of blur_sdk.core.regex_guard.
MAX_MATCH_CHARS = 16
_CONFUSIONS = {"O": "0", "I": "1", "Q": "0", "0": "O", "1": "I", "8": "B", "B": "8", "5": "S"}


def clean(text: str) -> str:
    """Upper-cased plate characters only: separators, spaces and punctuation dropped."""
    return "".join(PLATE_CHAR.findall(text.upper()))


def candidates(
    chars: Sequence[tuple[str, float, str, float]], formats: Sequence[str] = ()
) -> list[tuple[str, float]]:
    """Top readings (cleaned text, score), best first; a text format match ranks first.

    chars holds per character (best, p_best, second, p_second) from the CTC decoder. The
    alternatives swap the second-best class in at the least confident positions.
    """
    kept = [c for c in chars if clean(c[0])]
    if not kept:
        return []
    base = [clean(c[0]) for c in kept]
    probs = [c[1] for c in kept]
    readings: dict[str, float] = {"".join(base): sum(probs) / len(probs)}
    weakest = sorted(range(len(kept)), key=lambda i: probs[i])[:3]
    for i in weakest:
        alt = clean(kept[i][2]) or _CONFUSIONS.get(base[i], "")
        if not alt or alt == base[i]:
            continue
        swapped = [*base[:i], alt, *base[i + 1 :]]
        alt_prob = kept[i][3] if clean(kept[i][2]) else probs[i] * 0.5
        score = (sum(probs) - probs[i] + alt_prob) / len(probs)
        readings.setdefault("".join(swapped), score)
    ranked = sorted(readings.items(), key=lambda kv: -kv[1])
    if formats and len(base) <= MAX_CHARS:  # plate-length texts only (<= MAX_MATCH_CHARS)
        compiled = [re.compile(f, re.IGNORECASE) for f in formats]
        ranked.sort(key=lambda kv: not any(p.fullmatch(kv[0]) for p in compiled))
    return [(text, round(score, 3)) for text, score in ranked[:MAX_CANDIDATES]]


def plausible(text: str) -> bool:
    """Whether a cleaned reading has a plate's length."""
    return MIN_CHARS <= len(text) <= MAX_CHARS
