"""Watermarkly's Blur API: GET /blur/?url=... or POST /blur/ with the image bytes; the answer is
the image itself, errors are {"message": ...}."""
