"""Plate text: clean a recogniser reading to plate characters and rank its candidates."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from blur_sdk.core.plates.formats import Char, fit, options_of
from blur_sdk.core.plates.regions import KNOWN_FORMATS, matches

PLATE_CHAR = re.compile(r"[0-9A-Z\u4e00-\u9fff]")
MAX_CANDIDATES = 5
MIN_CHARS = 3  # 2-character readings were mostly badges and signs on openlpr_val
MAX_CHARS = 12
REGISTRATION_LIKE = (5, 8, 2)  # length from, to; digits at least (registration_like)
# User regexes (skip_regexp, text_formats) only ever run on texts this short, which bounds
# their cost together with the backtracking-path limit of blur_sdk.core.regex_guard.
MAX_MATCH_CHARS = 16
_CONFUSIONS = {"O": "0", "I": "1", "Q": "0", "0": "O", "1": "I", "8": "B", "B": "8", "5": "S"}
# Calibrated ranking: a candidate's score is its format's prior x the geometric mean of its
# characters' probabilities. A requested format (text_formats, regions) beats any region's
# format, which beats a reading that fits none; cutting stray edge characters costs a little.
HINT_PRIOR = 1.0
KNOWN_PRIOR = 0.85
NO_FORMAT_PRIOR = 0.6
TRIM_PRIOR = 0.85
TRIMS = ((1, 0), (2, 0), (0, 1), (1, 1))  # (leading, trailing) characters cut: bands, frames
# A separator the recogniser read ("ABO-9333", "AB·1234", "AF 46") splits the plate's groups;
# letters turn to digits (or back) at such a split, not one character before or after it, so
# among the readings of one line each such near miss costs this factor more than the fewest
# any reading has (AB0-9333 -> ABO-9333; UK AB12 CDE's change is two characters away: kept).
NEAR_MISS_PRIOR = 0.7
FULLER_MARGIN = 0.02  # see ranked()
# Without a request's formats, a Latin format with a position that allows letters and digits
# alike ([A-Z0-9]: Iceland, Sweden, Czechia, Yugoslav-era Montenegro) decides nothing there, so
# its reading ranks below one that a stricter format decides (BA215A1 under BA215AI: Slovakia's
# AB123CD); once per reading, not per such position (formats.fit).
MIXED_PRIOR = 0.8
_SIMPLE = re.compile(r"(?:\[[^\]]+\]|\(\?:|[|)?]|\{\d+(?:,\d+)?\}|[0-9A-Z]|\\u[0-9a-fA-F]{4})*")
_ESCAPE_OR_TEXT = re.compile(r"\\u[0-9a-fA-F]{4}|\\.|[^\\]+")


def clean(text: str) -> str:
    """Upper-cased plate characters only: separators, spaces and punctuation dropped."""
    return "".join(PLATE_CHAR.findall(text.upper()))


def _swaps(kept: Sequence[Char], base: list[str], probs: list[float]) -> dict[str, float]:
    """The reading and its single swaps at the least confident positions, unformatted."""
    n = len(probs)
    mean_log = sum(math.log(max(p, 1e-6)) for p in probs) / n
    readings = {"".join(base): math.exp(mean_log) * NO_FORMAT_PRIOR}
    for i in sorted(range(n), key=lambda i: probs[i])[:3]:
        alt = clean(kept[i][2]) or _CONFUSIONS.get(base[i], "")
        if not alt or alt == base[i]:
            continue
        alt_prob = kept[i][3] if clean(kept[i][2]) else probs[i] * 0.5
        log_p = mean_log + (math.log(max(alt_prob, 1e-6)) - math.log(max(probs[i], 1e-6))) / n
        readings.setdefault(
            "".join([*base[:i], alt, *base[i + 1 :]]), math.exp(log_p) * NO_FORMAT_PRIOR
        )
    return readings


def _upper(pattern: str) -> str:
    """The pattern upper-cased, escapes (`\\u4e00`, `\\d`) left as they are."""
    return _ESCAPE_OR_TEXT.sub(lambda m: m[0] if m[0][0] == "\\" else m[0].upper(), pattern)


def _formatted(kept: Sequence[Char], formats: Sequence[str]) -> dict[str, float]:
    """Per format (requested, then every region's), the likeliest text it allows, scored."""
    out: dict[str, float] = {}
    options = [options_of(c) for c in kept]
    upper = [_upper(f) for f in formats]
    tiers = [(tuple(f for f in upper if _SIMPLE.fullmatch(f)), HINT_PRIOR, 1.0)]
    if not formats:  # (with a request's formats, those alone decide)
        tiers.append((KNOWN_FORMATS, KNOWN_PRIOR, MIXED_PRIOR))
    for patterns, prior, mixed in tiers:
        for lead, trail in ((0, 0), *TRIMS):
            part = options[lead : len(options) - trail]
            if len(part) < MIN_CHARS or (out and (lead or trail)):
                continue  # (stray characters are cut only when the whole fits nothing)
            cost = prior * (TRIM_PRIOR if lead or trail else 1.0)
            for text, score in fit(part, patterns, mixed).items():
                out[text] = max(out.get(text, 0.0), score * cost)
    return out


def candidates(chars: Sequence[Char], formats: Sequence[str] = ()) -> list[tuple[str, float]]:
    """Top readings (cleaned text, calibrated score), best first.

    chars holds per character (best, p_best, second, p_second) from the CTC decoder. Each
    format picks, per position, the likeliest alternative its letters or digits allow (O/0,
    I/1, B/8, S/5, Z/2, G/6); readings that fit no format keep their single swaps. A CJK
    character inside a reading (not first, as a Chinese province, nor last, as 学 or 警) is a
    coat of arms or sticker read as one (Austria, Switzerland) and is dropped.
    """
    splits = group_splits(chars)
    kept = [c for c in chars if clean(c[0])]
    if any(has_cjk(c[0]) for c in kept[1:-1]):
        splits = frozenset()  # (positions shift when a crest is dropped: no split evidence)
    kept = [c for i, c in enumerate(kept) if i in (0, len(kept) - 1) or not has_cjk(c[0])]
    if not kept:
        return []
    base = [clean(c[0]) for c in kept]
    swaps = _swaps(kept, base, [c[1] for c in kept])
    readings = dict(swaps)
    if len(base) <= MAX_CHARS + 2:  # plate-length texts only (<= MAX_MATCH_CHARS)
        for text, score in _formatted(kept, formats).items():
            readings[text] = max(score, readings.get(text, 0.0))
        for text, score in swaps.items():  # requested formats fit() cannot expand rank first
            if matches(text, formats):
                readings[text] = max(readings[text], score / NO_FORMAT_PRIOR * HINT_PRIOR)
    return ranked(by_groups(readings, splits, len(kept)), formats)


def group_splits(chars: Sequence[Char]) -> frozenset[int]:
    """Where a reading's groups split: indices (in its plate characters) of the characters
    that follow a separator (space, dash, dot) the recogniser read between two of them."""
    splits, count, pending = set(), 0, False
    for char in chars:
        if clean(char[0]):
            if pending and count:
                splits.add(count)
            count, pending = count + 1, False
        else:
            pending = True
    return frozenset(splits)


def _near_misses(text: str, splits: frozenset[int]) -> int:
    """Letter/digit changes of a text one character before or after a split, not at it."""
    return sum(
        1
        for i in range(1, len(text))
        if text[i - 1].isdigit() != text[i].isdigit()
        and i not in splits
        and (i - 1 in splits or i + 1 in splits)
    )


def by_groups(readings: dict[str, float], splits: frozenset[int], length: int) -> dict[str, float]:
    """Readings of a line that has group splits scored down by NEAR_MISS_PRIOR per letter/
    digit change next to a split beyond the fewest among them (readings of the line's whole
    length only: a trimmed reading's positions are not the split's)."""
    if not splits:
        return readings
    misses = {t: _near_misses(t, splits) for t in readings if len(t) == length}
    if not misses:
        return readings
    fewest = min(misses.values())
    return {
        t: score * NEAR_MISS_PRIOR ** (misses.get(t, fewest) - fewest)
        for t, score in readings.items()
    }


def ranked(readings: dict[str, float], formats: Sequence[str]) -> list[tuple[str, float]]:
    """The best MAX_CANDIDATES readings: a requested format's match first, whatever its score,
    then by score (rounded to 3 places); a requested format's match that is the first reading
    with one character more ranks ahead of it when it scores within FULLER_MARGIN (KOS461 over
    KOS46: one reader left a character out). Without a request's formats the scores decide:
    there a fuller reading was as often a band's or a stripe's character glued on (VE199999
    for VE99999, PME7632 for ME7632) as a character the shorter one left out."""
    order = sorted(readings.items(), key=lambda kv: (not matches(kv[0], formats), -kv[1]))
    if order and formats and matches(order[0][0], formats):
        first, score = order[0]
        fuller = next(
            (
                kv
                for kv in order[1:]
                if kv[1] >= score - FULLER_MARGIN
                and _one_more(kv[0], first)
                and matches(kv[0], formats)
            ),
            None,
        )
        if fuller is not None:
            order = [fuller, *(kv for kv in order if kv != fuller)]
    return [(text, round(score, 3)) for text, score in order[:MAX_CANDIDATES]]


def _one_more(longer: str, shorter: str) -> bool:
    """Whether `longer` is `shorter` with one character inserted somewhere."""
    return len(longer) == len(shorter) + 1 and any(
        longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer))
    )


def ahead(
    first: Sequence[tuple[str, float]], then: Sequence[tuple[str, float]]
) -> list[tuple[str, float]]:
    """One reader's readings first, whatever their scores, then another's not among them
    (MAX_CANDIDATES at most): a reading of the whole plate ahead of one of part of it."""
    texts = {text for text, _ in first}
    return [*first, *(c for c in then if c[0] not in texts)][:MAX_CANDIDATES]


def plausible(text: str) -> bool:
    """Whether a cleaned reading has a plate's length."""
    return MIN_CHARS <= len(text) <= MAX_CHARS


def registration_like(text: str) -> bool:
    """Whether a reading looks like a registration, whatever its format: 5-8 characters, at
    least two of them digits and one a Latin letter (REGISTRATION_LIKE; China's plates have
    one after their province character, a sign's "台2020" has none)."""
    low, high, digits = REGISTRATION_LIKE
    return (
        low <= len(text) <= high
        and sum(c.isdigit() for c in text) >= digits
        and any("A" <= c <= "Z" for c in text)
    )


def plausible_candidates(
    chars: Sequence[Char], formats: Sequence[str] = ()
) -> list[tuple[str, float]]:
    """candidates() of a plate's length only."""
    return [(t, score) for t, score in candidates(chars, formats) if plausible(t)]


def merged(
    rankings: Sequence[Sequence[tuple[str, float]]], formats: Sequence[str] = ()
) -> list[tuple[str, float]]:
    """Several readers' candidates for one plate, ranked as candidates() ranks one reader's:
    a requested format's match first, then by calibrated score (a text that more than one
    reader proposes keeps its best score)."""
    best: dict[str, float] = {}
    for ranking in rankings:
        for text, score in ranking:
            best[text] = max(score, best.get(text, 0.0))
    return ranked(best, formats)


def has_cjk(text: str) -> bool:
    """Whether a reading holds a CJK character (a Chinese province: only PP-OCR reads those)."""
    return any("\u4e00" <= c <= "\u9fff" for c in text)
