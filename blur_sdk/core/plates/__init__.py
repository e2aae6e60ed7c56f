"""Plate geometry and text: reading, region formats, deskew, extent."""
