"""Vehicle codes (eu_crops_dev's regions) to ISO codes; no imports, so training/ can use it."""

# eu_crops_dev names countries by their international vehicle codes; Snapshot takes ISO codes.
VEHICLE_CODES = {
    "a": "at", "b": "be", "bg": "bg", "by": "by", "ch": "ch", "cz": "cz", "d": "de", "dk": "dk",
    "e": "es", "f": "fr", "fin": "fi", "fl": "li", "fo": "fo", "gb": "gb", "gbj": "je",
    "gbm": "im", "gr": "gr", "h": "hu", "i": "it", "irl": "ie", "is": "is", "lt": "lt",
    "lv": "lv", "mne": "me", "n": "no", "nl": "nl", "p": "pt", "pl": "pl", "ro": "ro",
    "s": "se", "sk": "sk", "slo": "si",
}  # fmt: skip
