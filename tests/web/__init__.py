"""Tests of the try-it web page."""
