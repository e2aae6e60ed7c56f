"""The video API: submit a video (an async task), poll it, download the anonymized video."""
