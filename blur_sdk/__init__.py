"""blur-sdk: on-premise image anonymization (faces and licence plates), a drop-in for Blur SDK."""

from pathlib import Path

__version__ = "0.1.0"
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # config/, logos/, weights/ and models/
