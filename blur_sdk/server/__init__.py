"""The HTTP server: one app factory, forms, uploads, auth, errors, request log."""
