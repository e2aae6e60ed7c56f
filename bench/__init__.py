"""Benchmarks: accuracy on labelled sets and where the time goes."""
