"""Plate Recognizer's Snapshot plate reader (port 8080): POST /v1/plate-reader/."""
