"""Redactors: hide regions of an image (blur, pixelate, fill, logo)."""
