"""Plate Recognizer's Blur API (port 8001): POST / and /v1/blur."""
