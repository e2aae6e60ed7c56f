"""Images in and out: decode (with integrity checks and limits), encode."""
