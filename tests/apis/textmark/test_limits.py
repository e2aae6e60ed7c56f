"""Text-watermark limits: per-app QPS windows and usage quotas with their report fields."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from blur_sdk.apis.textmark.auth import TextmarkAuthError
from blur_sdk.apis.textmark.limits import QpsLimiter, UsageBook
from blur_sdk.errors import BusyError

T0 = 1_700_000_000.0
APP = "abcdefghij012345"


def test_third_request_in_one_second_is_refused_at_qps_2(tmp_path: Path) -> None:
    limiter = QpsLimiter(tmp_path / "textmark.sqlite", 2)
    limiter.hit(APP, now=T0 + 0.1)
    limiter.hit(APP, now=T0 + 0.5)
    with pytest.raises(BusyError, match="TEXTMARK_QPS=2"):
        limiter.hit(APP, now=T0 + 0.9)
    limiter.hit(APP, now=T0 + 1.0)  # next second
    limiter.hit(APP, now=T0 + 1.2)
    with pytest.raises(BusyError):
        limiter.hit(APP, now=T0 + 1.3)


def test_refused_requests_do_not_use_up_the_next_window(tmp_path: Path) -> None:
    limiter = QpsLimiter(tmp_path / "textmark.sqlite", 1)
    limiter.hit(APP, now=T0)
    for _ in range(5):
        with pytest.raises(BusyError):
            limiter.hit(APP, now=T0 + 0.5)
    limiter.hit(APP, now=T0 + 3.0)


def test_qps_is_per_app_and_shared_by_limiters_on_one_file(tmp_path: Path) -> None:
    first = QpsLimiter(tmp_path / "textmark.sqlite", 2)
    second = QpsLimiter(tmp_path / "textmark.sqlite", 2)  # another process
    first.hit(APP, now=T0)
    second.hit(APP, now=T0)
    with pytest.raises(BusyError):
        first.hit(APP, now=T0)
    first.hit("", now=T0)  # auth off: one shared key
    second.hit("ZYXWVUTSRQ987654", now=T0)


def test_qps_0_never_refuses(tmp_path: Path) -> None:
    limiter = QpsLimiter(tmp_path / "textmark.sqlite", 0)
    for _ in range(50):
        limiter.hit(APP, now=T0)


def test_usage_quota_is_used_up_after_count_requests(tmp_path: Path) -> None:
    usage = UsageBook(tmp_path / "textmark.sqlite", {APP: 2})
    for _ in range(2):
        usage.take(APP)
    with pytest.raises(TextmarkAuthError, match="TEXTMARK_QUOTAS") as e:
        usage.take(APP)
    assert e.value.status == 403
    assert usage.report(APP)["allUsedCount"] == 2  # the refused one is not counted
    usage.give_back(APP)
    usage.take(APP)  # one was given back: one more fits


def test_report_with_a_quota(tmp_path: Path) -> None:
    usage = UsageBook(tmp_path / "textmark.sqlite", {APP: 3})
    assert usage.report(APP) == {
        "remainingUsage": 3,
        "allUsedCount": 0,
        "longTermUsageCount": 3,
        "limitedTermUsageCount": 0,
        "limitedTermExpireTimes": None,
    }
    usage.take(APP)
    report = usage.report(APP)
    assert (report["remainingUsage"], report["allUsedCount"]) == (2, 1)
    assert report["longTermUsageCount"] == 2


def test_report_without_a_quota_is_unlimited_but_counts(tmp_path: Path) -> None:
    usage = UsageBook(tmp_path / "textmark.sqlite", {APP: 3})
    usage.take("")
    usage.take("")
    report = usage.report("")
    assert report["remainingUsage"] == -1
    assert report["longTermUsageCount"] == -1
    assert report["allUsedCount"] == 2
    assert report["limitedTermUsageCount"] == 0
    assert report["limitedTermExpireTimes"] is None


def test_usage_is_shared_by_books_on_one_file(tmp_path: Path) -> None:
    UsageBook(tmp_path / "textmark.sqlite", {APP: 1}).take(APP)
    with pytest.raises(TextmarkAuthError):
        UsageBook(tmp_path / "textmark.sqlite", {APP: 1}).take(APP)


def test_concurrent_hits_admit_exactly_qps(tmp_path: Path) -> None:
    limiter = QpsLimiter(tmp_path / "textmark.sqlite", 5)

    def one(_: int) -> bool:
        try:
            QpsLimiter(tmp_path / "textmark.sqlite", 5).hit(APP, now=T0)
        except BusyError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(one, range(24)))
    assert admitted == 5
    limiter.hit(APP, now=T0 + 1)


def test_concurrent_takes_never_overrun_a_quota(tmp_path: Path) -> None:
    import threading

    usage = UsageBook(tmp_path / "textmark.sqlite", {APP: 5})
    refused: list[int] = []

    def one() -> None:
        try:
            usage.take(APP)
        except TextmarkAuthError:
            refused.append(1)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert usage.report(APP)["allUsedCount"] == 5 and len(refused) == 7
