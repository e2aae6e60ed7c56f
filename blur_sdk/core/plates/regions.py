"""Plate text formats per Snapshot region code: hints that rank matching readings first.

Patterns are matched (case-insensitively, in full) against the cleaned reading: upper-case
letters, digits and CJK characters, with spaces, dashes and dots already dropped. A code with a
subdivision falls back to its country ("us-ny" -> "us"); a well-formed code we have no table
for is accepted and simply gives no formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from blur_sdk.errors import InputError

REGION_CODE = re.compile(r"^[a-z]{2}(?:-[a-z0-9]{1,3})?$")

_US = (
    r"[0-9][A-Z]{3}[0-9]{3}",  # 7ABC123 (California, and many states' 7-character series)
    r"[A-Z]{3}[0-9]{4}",  # ABC1234 (New York, Texas, ...)
    r"[A-Z]{3}[0-9]{3}",  # ABC123
    r"[0-9]{3}[A-Z]{3}",  # 123ABC
    r"[0-9][A-Z][0-9]{5}",  # California commercial 1A23456
)

# Poland's series a reading is fitted to only with a region hint (they would fit too many other
# readings): reduced (motorcycle) plates, a two-letter district + 4 (WD 7592, DW 160N); a
# three-letter district + 5 digits (WCI 02888); individual plates, the voivodeship's letter, a
# digit, 3-5 free characters (L0 RAFI)
_PL_HINTED = (
    r"[A-Z]{2}[0-9]{4}",
    r"[A-Z]{2}[0-9]{3}[A-Z]",
    r"[A-Z]{3}[0-9]{5}",
    r"[A-Z][0-9][A-Z0-9]{3,5}",
)

_IN_STATES = (  # India's state and territory codes
    "(?:AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|MN|MP|MZ|NL|OD|OR|PB"
    "|PY|RJ|SK|TN|TR|TS|UK|UP|WB)"
)

REGION_FORMATS: dict[str, tuple[str, ...]] = {
    # UK: current AB12CDE, then prefix (A123BCD) and suffix (ABC123D) series.
    "gb": (
        r"[A-Z]{2}[0-9]{2}[A-Z]{3}",
        r"[A-Z][0-9]{1,3}[A-Z]{3}",
        r"[A-Z]{3}[0-9]{1,3}[A-Z]",
        r"[A-Z]{1,3}[0-9]{1,4}",
        r"[0-9]{1,4}[A-Z]{1,3}",
    ),  # (and the dateless series)
    # France: SIV AB123CD since 2009; FNI 1234AB75 (department 2A/2B for Corsica) before.
    "fr": (r"[A-Z]{2}[0-9]{3}[A-Z]{2}", r"[0-9]{1,4}[A-Z]{1,3}(?:[0-9]{2,3}|2A|2B)"),
    # Germany: district (1-3 letters) + 1-2 letters + 1-4 digits, E (electric) / H (historic).
    "de": (r"[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}[EH]?",),
    # Italy: AB123CD since 1994; motorcycles AB12345 since 1999; province + six digits before.
    "it": (r"[A-Z]{2}[0-9]{3}[A-Z]{2}", r"[A-Z]{2}[0-9]{5}", r"[A-Z]{2}[0-9]{6}"),
    # Spain: 1234BCD (no vowels) since 2000; provincial A1234BC / AB1234C before.
    "es": (r"[0-9]{4}[B-DF-HJ-NP-TV-Z]{3}", r"[A-Z]{1,2}[0-9]{4}[A-Z]{1,2}"),
    # Netherlands: the six-character "sidecodes" 1-11.
    "nl": (
        r"[A-Z]{2}[0-9]{2}[0-9]{2}",
        r"[0-9]{2}[0-9]{2}[A-Z]{2}",
        r"[0-9]{2}[A-Z]{2}[0-9]{2}",
        r"[A-Z]{2}[0-9]{2}[A-Z]{2}",
        r"[A-Z]{2}[A-Z]{2}[0-9]{2}",
        r"[0-9]{2}[A-Z]{2}[A-Z]{2}",
        r"[0-9]{2}[A-Z]{3}[0-9]",
        r"[0-9][A-Z]{3}[0-9]{2}",
        r"[A-Z]{2}[0-9]{3}[A-Z]",
        r"[A-Z][0-9]{3}[A-Z]{2}",
        r"[A-Z]{3}[0-9]{2}[A-Z]",
        r"[A-Z][0-9]{2}[A-Z]{3}",
    ),
    "us": _US,
    "us-ca": _US,
    # India: state, district, series, number (KA01AB1234); Bharat series 22BH1234AA.
    "in": (_IN_STATES + r"[0-9]{1,2}[A-Z]{0,3}[0-9]{4}", r"[0-9]{2}BH[0-9]{4}[A-Z]{1,2}"),
    # Brazil: old ABC1234, Mercosur ABC1D23.
    "br": (r"[A-Z]{3}[0-9]{4}", r"[A-Z]{3}[0-9][A-Z][0-9]{2}"),
    # Europe beyond the above (two-row plates read top row first, as the formats are written).
    "at": (r"[A-Z]{1,2}[0-9]{1,5}[A-Z]{1,3}", r"[A-Z]{1,2}[A-Z]{1,3}[0-9]{1,5}"),
    "be": (r"[0-9][A-Z]{3}[0-9]{3}", r"[A-Z]{3}[0-9]{3}"),
    "bg": (r"[A-Z]{1,2}[0-9]{4}[A-Z]{1,2}", r"[A-Z]{1,2}[A-Z]{1,2}[0-9]{4}"),
    "by": (r"[0-9]{4}[A-Z]{2}[0-9]",),
    "ch": (r"[A-Z]{2}[0-9]{1,6}",),
    "cz": (r"[0-9][A-Z][0-9A-Z]?[0-9]{4}",),
    "dk": (r"[A-Z]{2}[0-9]{5}",),
    "fi": (r"[A-Z]{2,3}[0-9]{1,3}",),
    "gr": (r"[A-Z]{3}[0-9]{4}", r"[A-Z]{3}[0-9]{3}"),  # (three digits: motorcycles)
    "hu": (r"[A-Z]{3}[0-9]{3}", r"[A-Z]{4}[0-9]{3}"),
    "ie": (r"[0-9]{2,3}[A-Z]{1,2}[0-9]{1,6}",),
    "is": (r"[A-Z]{2}[A-Z0-9][0-9]{2}",),
    "li": (r"FL[0-9]{1,5}",),
    "lt": (r"[A-Z]{3}[0-9]{3}",),
    "lv": (r"[A-Z]{2}[0-9]{1,4}", r"[A-Z][0-9]{4}"),
    "me": (r"[A-Z]{2}[A-Z]{0,2}[0-9]{3,4}", r"[A-Z]{2}[0-9]{3}[0-9A-Z]{2}"),  # (Yugoslav-era)
    "no": (r"[A-Z]{2}[0-9]{4,5}",),
    "pl": (
        r"[A-Z]{2}[0-9]{5}",
        r"[A-Z]{2}[0-9]{4}[A-Z]",
        r"[A-Z]{2}[0-9]{3}[A-Z]{2}",
        r"[A-Z]{3}[0-9]{4}",
        r"[A-Z]{3}[0-9]{3}[A-Z]",
        r"[A-Z]{3}[A-Z][0-9]{2,3}",
        r"[A-Z]{3}[0-9][A-Z]{2,3}",
        r"[A-Z]{3}[0-9]{2}[A-Z]{2}",
        r"[A-Z]{3}[0-9][A-Z][0-9]{2}",
        r"[A-Z]{3}[0-9]{2}[A-Z][0-9]",
        r"[A-Z]{3}[0-9][A-Z]{2}[0-9]",
        r"[A-Z]{3}[A-Z]{2}[0-9]{2}",
        r"[A-Z]{2}[0-9][A-Z][0-9]{3}",
        r"[A-Z]{2}[0-9][A-Z]{2}[0-9]{2}",
        *_PL_HINTED,
    ),
    "pt": (
        r"[0-9]{2}[A-Z]{2}[0-9]{2}",
        r"[A-Z]{2}[0-9]{2}[A-Z]{2}",
        r"[0-9]{4}[A-Z]{2}",
        r"[A-Z]{2}[0-9]{4}",
    ),
    "ro": (r"[A-Z]{1,2}[0-9]{2,3}[A-Z]{3}",),
    "se": (r"[A-Z]{3}[0-9]{2}[A-Z0-9]",),
    "si": (r"[A-Z]{2}[A-Z0-9]{4,6}",),
    "sk": (r"[A-Z]{2}[0-9]{3}[A-Z]{2}",),
    # China: province character, city letter, 5 characters (6 for new-energy vehicles);
    # the letters I and O are never issued (they read as 1 and 0).
    "cn": (r"[\u4e00-\u9fff][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}",),
}


# Formats tried without a region hint: every region's, the broadest (that fit most readings) and
# Poland's hinted-only series out (where no other region has them).
BROAD = {r"[A-Z]{1,2}[A-Z]{1,3}[0-9]{1,5}", r"[A-Z]{2}[A-Z0-9]{4,6}"}
KNOWN_FORMATS = tuple(
    dict.fromkeys(
        p
        for code, table in REGION_FORMATS.items()
        for p in table
        if p not in BROAD and not (code == "pl" and p in _PL_HINTED)
    )
)


def validate_codes(codes: Iterable[str], field: str = "regions") -> tuple[str, ...]:
    """Lower-cased region codes, refusing anything that is not shaped like 'gb' or 'us-ca'."""
    out = []
    for code in codes:
        lowered = code.strip().lower()
        if not REGION_CODE.match(lowered):
            raise InputError(
                f"{field}: {code[:20]!r} is not a region code (like 'gb', 'fr' or 'us-ca')",
                field,
            )
        if lowered not in out:
            out.append(lowered)
    return tuple(out)


def formats_of(code: str) -> tuple[str, ...]:
    """The text formats of one region code; a subdivision falls back to its country."""
    if code in REGION_FORMATS:
        return REGION_FORMATS[code]
    return REGION_FORMATS.get(code.split("-", 1)[0], ())


def region_formats(codes: Iterable[str]) -> tuple[str, ...]:
    """The text formats of all the region hints, without duplicates, in order."""
    seen: dict[str, None] = {}
    for code in codes:
        for pattern in formats_of(code):
            seen.setdefault(pattern, None)
    return tuple(seen)


def matches(text: str, patterns: Iterable[str]) -> bool:
    """Whether a cleaned reading matches one of the patterns in full (case-insensitive)."""
    return any(re.fullmatch(p, text, re.IGNORECASE) for p in patterns)


def fits_format(text: str, formats: Sequence[str]) -> bool:
    """Whether a reading fits the request's formats, or any region's without them."""
    return matches(text, formats or KNOWN_FORMATS)


def best_region(text: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The hints reordered so that the first region whose formats fit the reading comes first."""
    for i, code in enumerate(codes):
        if matches(text, formats_of(code)):
            return (code, *codes[:i], *codes[i + 1 :])
    return codes
