"""HTTP layer: the Flask app, request parsing, URL fetching and access control."""
