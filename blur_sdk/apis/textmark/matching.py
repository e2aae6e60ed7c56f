"""watermarkNames / excludeKeywords: which text blocks a keyword list selects, by their rules.

`similar` (and `default`, and a missing or unknown rule): edit-distance similarity >= 75 %
against the whole block or its best-matching window; `absolute`: the exact text (100 %) as the
block or inside it. Texts are compared without spaces and case-folded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from blur_sdk.errors import InputError

SIMILAR, ABSOLUTE, DEFAULT = "similar", "absolute", "default"
MIN_SIMILARITY = 0.75
MAX_KEYWORDS = 100
MAX_KEYWORD_CHARS = 200


@dataclass(frozen=True)
class Keyword:
    """One keyword and its rule (similar or absolute)."""

    value: str
    rule: str


def normalise(text: str) -> str:
    """Spaces removed, case folded."""
    return "".join(text.split()).casefold()


def parse_keywords(raw: str, field: str) -> tuple[Keyword, ...]:
    """A JSON list of {"value", "rule"} (a bare string is a value with the default rule)."""
    try:
        items: Any = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"{field}: not valid JSON ({e.msg})", field) from e
    if not isinstance(items, list):
        raise InputError(f'{field}: expected a JSON list of {{"value", "rule"}}', field)
    if len(items) > MAX_KEYWORDS:
        raise InputError(f"{field}: at most {MAX_KEYWORDS} keywords", field)
    keywords = []
    for i, item in enumerate(items):
        value, rule = (item, DEFAULT) if isinstance(item, str) else (None, DEFAULT)
        if isinstance(item, dict):
            value, rule = item.get("value"), item.get("rule", DEFAULT)
        if not isinstance(value, str) or not normalise(value):
            raise InputError(f"{field}[{i}].value: expected a non-empty string", field)
        if len(value) > MAX_KEYWORD_CHARS:
            raise InputError(f"{field}[{i}].value: longer than {MAX_KEYWORD_CHARS}", field)
        rule = rule.lower() if isinstance(rule, str) else DEFAULT
        keywords.append(Keyword(value, ABSOLUTE if rule == ABSOLUTE else SIMILAR))
    return tuple(keywords)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1 - edit distance / the longer length (1.0 for two empty strings)."""
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - edit_distance(a, b) / longest


def best_similarity(value: str, text: str) -> float:
    """The similarity of value to the text or to its best window (lengths len(value) +- 1)."""
    best = similarity(value, text)
    n = len(value)
    for size in {max(1, n - 1), n, n + 1}:
        for start in range(max(1, len(text) - size + 1)):
            best = max(best, similarity(value, text[start : start + size]))
            if best >= 1.0:
                return best
    return best


def matches(keyword: Keyword, text: str) -> bool:
    """Whether the block text matches the keyword under its rule."""
    value, text = normalise(keyword.value), normalise(text)
    if not text:
        return False
    if keyword.rule == ABSOLUTE:
        return value in text
    return best_similarity(value, text) >= MIN_SIMILARITY


def selected(
    texts: Sequence[str], names: Sequence[Keyword], excluded: Sequence[Keyword]
) -> list[bool]:
    """Which texts are removed: those matching a name (names given), all but those matching an
    excluded keyword (exclusions given), or all."""
    if names:
        return [any(matches(k, t) for k in names) for t in texts]
    return [not any(matches(k, t) for k in excluded) for t in texts]
