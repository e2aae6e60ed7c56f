"""Tests of watermark finding and removal."""
