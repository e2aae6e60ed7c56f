"""Watermarks: automatic finding of text and logo overlays, stroke masks, and their removal."""
