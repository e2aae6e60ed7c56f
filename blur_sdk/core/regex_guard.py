"""User regexes (skip_regexp, text_formats) compiled only when their cost is bounded.

A pattern may take at most REGEX_MAX_PATHS backtracking paths per start position on a text of
MATCH_TEXT_CHARS, and the core only ever matches texts that short (plate readings).
"""

from __future__ import annotations

import re
from re import _parser as sre  # type: ignore[attr-defined]  # the stdlib's own regex parser
from typing import Any

from blur_sdk.core.plates.text import MAX_MATCH_CHARS
from blur_sdk.errors import InputError

REGEX_MAX_LENGTH = 200
MATCH_TEXT_CHARS = MAX_MATCH_CHARS
REGEX_MAX_PATHS = 10_000


def _regex_paths(items: Any) -> int:
    """An upper bound of the backtracking paths of a parsed regex on a short plate text.

    A repeat of a body with b paths runs 0..n times (n bounded by the text length): up to
    b**0 + ... + b**n paths; a sequence multiplies, an alternation adds. Nested quantifiers
    and overlapping alternatives under a quantifier therefore blow the bound up, while
    plate formats like [A-Z]{1,3}-?[0-9]{1,4} stay in the hundreds.
    """
    cap, paths = REGEX_MAX_PATHS + 1, 1
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return cap  # backreferences: matching is not bounded by this analysis
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = arg
            inner = _regex_paths(body)
            most = min(hi, MATCH_TEXT_CHARS // max(body.getwidth()[0], 1))
            if lo == hi:
                count = inner ** min(lo, most) if inner > 1 else 1
            else:
                count = most + 1 if inner == 1 else sum(inner**k for k in range(most + 1))
        elif name == "BRANCH":
            count = sum(_regex_paths(alt) for alt in arg[1])
        elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
            count = _regex_paths(arg[-1])
        elif name == "ATOMIC_GROUP":
            count = _regex_paths(arg)
        else:
            count = 1
        paths = min(paths * count, cap)
    return paths


def compile_regexes(patterns: list[str], field: str) -> list[re.Pattern[str]]:
    """Compile user regexes, refusing invalid ones and shapes prone to catastrophic backtracking.

    Cost stays bounded: a pattern may take at most REGEX_MAX_PATHS backtracking paths on a
    MATCH_TEXT_CHARS-long text, and matching only ever runs on texts that short.
    """
    compiled = []
    for pattern in patterns:
        if len(pattern) > REGEX_MAX_LENGTH:
            raise InputError(f"{field}: regex longer than {REGEX_MAX_LENGTH} characters", field)
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
            paths = _regex_paths(sre.parse(pattern, re.IGNORECASE))
        except (re.error, OverflowError, RecursionError) as e:
            raise InputError(f"{field}: invalid regex {pattern[:60]!r}: {e}", field) from e
        if paths > REGEX_MAX_PATHS:
            raise InputError(
                f"{field}: regex {pattern[:60]!r} has nested quantifiers, repeated "
                "alternatives or backreferences (catastrophic backtracking); simplify it",
                field,
            )
    return compiled
