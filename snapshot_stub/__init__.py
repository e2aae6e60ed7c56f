"""A real, Snapshot-compatible plate reader service over the blur-sdk engine (not a stub)."""
