"""The browser page to try the server's APIs (`GET /` for browsers, `GET /demo`)."""

from blur_sdk.web.routes import web_blueprint

__all__ = ["web_blueprint"]
