"""sync=true: the full answer POSTed to the client's callback, retried once when it does not
answer 200; the callback URL obeys the same address rules as image_url."""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

from blur_sdk.errors import FetchError
from blur_sdk.server.url_rules import allow_networks, parse_url, resolve
from blur_sdk.settings import Settings

log = logging.getLogger(__name__)
ATTEMPTS = 2
RETRY_DELAY = 1.0  # s between the two attempts


def check_callback(url: str, settings: Settings) -> None:
    """FetchError unless the callback is an http(s) URL to an allowed address."""
    resolve(parse_url(url, "callback"), settings, allow_networks(settings.url_allow_networks),
            "callback")  # fmt: skip


def deliver(url: str, body: dict[str, Any], settings: Settings) -> bool:
    """POST the answer as JSON; True once the callback answered 200 (two attempts at most)."""
    timeout = (settings.url_connect_timeout, settings.url_read_timeout)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            check_callback(url, settings)  # again: DNS may have changed since the request
            response = requests.post(url, json=body, timeout=timeout, allow_redirects=False)
            if response.status_code == 200:
                return True
            log.warning("callback %s answered HTTP %s (attempt %d)", url[:200],
                        response.status_code, attempt)  # fmt: skip
        except (requests.RequestException, OSError, ValueError) as e:
            log.warning("callback %s failed (attempt %d): %s", url[:200], attempt, e)
        except FetchError as e:  # the address is refused now
            log.warning("callback %s refused (attempt %d): %s", url[:200], attempt, e)
            return False
        if attempt < ATTEMPTS:
            time.sleep(RETRY_DELAY)
    return False
