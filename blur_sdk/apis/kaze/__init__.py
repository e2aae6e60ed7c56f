"""Kaze's watermark-removal API: submit a task, poll it, download the cleaned image."""
