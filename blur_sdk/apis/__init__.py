"""Vendor APIs, one package each, mounted by blur_sdk.server.app.create_app."""
