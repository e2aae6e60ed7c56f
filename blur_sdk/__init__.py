"""blur-sdk: on-premise image anonymization (faces and licence plates), a drop-in for Blur SDK."""

__version__ = "0.1.0"
