"""Plate formats as per-position character sets: the format decides ambiguous characters.

A format is one of the simple regexes of blur_sdk.core.plates.regions: literals, classes
(`[A-Z]`, `[0-9A-Z]`, ranges), `{m}`, `{m,n}` and `?` quantifiers and flat `(?:a|b)` groups.
It is expanded, for a reading's length, into fixed sequences of allowed characters; each
position then takes the likeliest character of the recogniser's alternatives that fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

Char = tuple[str, float, str, float]  # (best, p_best, second, p_second) from the CTC decoder
_GROUP = re.compile(r"\(\?:([^()]*)\)")
_TOKEN = re.compile(r"(\[[^\]]+\]|\\u[0-9a-fA-F]{4}|.)(\{(\d+)(?:,(\d+))?\}|\?)?")
# Characters the recogniser confuses at plate fonts: the format picks the right one.
TWINS = {
    "O": "0D",
    "0": "OD",
    "D": "0O",
    "Q": "0O",
    "I": "1",
    "1": "I",
    "L": "1",
    "B": "8",
    "8": "B",
    "S": "5",
    "5": "S",
    "Z": "2",
    "2": "Z",
    "G": "6",
    "6": "G",
    "T": "7",
    "7": "T",
    "A": "4",
    "4": "A",
}
TWIN_SHARE = 0.5  # share of the mass the best character leaves that goes to its twin
MAX_EXPANSIONS = 64


def _char_set(token: str) -> frozenset[str]:
    if token.startswith("\\u"):
        return frozenset(chr(int(token[2:], 16)))
    if not token.startswith("["):
        return frozenset(token)
    body = token[1:-1].encode().decode("unicode_escape")
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.update(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars)


def _alternatives(pattern: str) -> list[str]:
    """The pattern with each flat group expanded into its alternatives."""
    match = _GROUP.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [alt for part in match.group(1).split("|") for alt in _alternatives(head + part + tail)]


@lru_cache(maxsize=4096)
def expand(pattern: str, length: int) -> tuple[tuple[frozenset[str], ...], ...]:
    """The fixed sequences of allowed characters of the pattern that have this length."""
    out: list[tuple[frozenset[str], ...]] = []
    for alternative in _alternatives(pattern):
        tokens = []
        for m in _TOKEN.finditer(alternative):
            low = 0 if m.group(2) == "?" else int(m.group(3) or 1)
            high = 1 if m.group(2) == "?" else int(m.group(4) or m.group(3) or 1)
            tokens.append((_char_set(m.group(1)), low, high))
        partial: list[tuple[frozenset[str], ...]] = [()]
        for chars, low, high in tokens:
            partial = [
                seq + (chars,) * n
                for seq in partial
                for n in range(low, high + 1)
                if len(seq) + n <= length
            ][:MAX_EXPANSIONS]
        out += [seq for seq in partial if len(seq) == length]
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=4096)
def _undecided(sequence: tuple[frozenset[str], ...]) -> bool:
    """Whether a way of a Latin format has a position that allows letters and digits alike (a
    Chinese plate's way is told apart by its province character)."""
    latin = all(c.isascii() for allowed in sequence for c in allowed)
    return latin and any(_mixed(allowed) for allowed in sequence)


@lru_cache(maxsize=256)
def _mixed(allowed: frozenset[str]) -> bool:
    """Whether a position allows both letters and digits."""
    return any(c.isdigit() for c in allowed) and any(c.isalpha() for c in allowed)


@lru_cache(maxsize=1024)
def sequences(patterns: tuple[str, ...], length: int) -> tuple[tuple[frozenset[str], ...], ...]:
    """Every pattern's sequences of this length, without duplicates."""
    return tuple(dict.fromkeys(seq for p in patterns for seq in expand(p, length)))


def options_of(char: Char) -> list[tuple[str, float]]:
    """The characters one position may be, upper-cased (a plate has no lower case: PP-OCR's
    "o" is the letter O), with their probabilities, likeliest first. A lower-case best
    character has no twins: the recogniser saw a letter there ("Andrew" on a sign is no
    AN0REW)."""
    best, p_best, second, p_second = char[0].upper(), char[1], char[2].upper(), char[3]
    options = {best: p_best}
    if second:
        options[second] = options.get(second, 0.0) + p_second  # ("o" then "O": one letter)
    for twin in "" if char[0].islower() else TWINS.get(best, ""):
        options.setdefault(twin, (1.0 - p_best) * TWIN_SHARE)
    return sorted(options.items(), key=lambda kv: -kv[1])


def fit(
    options: Sequence[Sequence[tuple[str, float]]],
    patterns: tuple[str, ...],
    mixed_prior: float = 1.0,
) -> dict[str, float]:
    """Per way the patterns allow (options: options_of per position), the likeliest text and
    the geometric mean of its characters' probabilities, x mixed_prior where the way is
    _undecided (a position where the format decides nothing)."""
    out: dict[str, float] = {}
    for sequence in sequences(patterns, len(options)) if options else ():
        text, product = [], 1.0
        for allowed, choices in zip(sequence, options, strict=True):
            pick = next(((c, p) for c, p in choices if c in allowed), None)
            if pick is None or pick[1] <= 0:
                break
            text.append(pick[0])
            product *= pick[1]
        else:
            joined = "".join(text)
            prior = mixed_prior if _undecided(sequence) else 1.0
            out[joined] = max(out.get(joined, 0.0), product ** (1 / len(options)) * prior)
    return out
