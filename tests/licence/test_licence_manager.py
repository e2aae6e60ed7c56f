"""Licence validation against recorded licence-server answers (no real network)."""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from blur_sdk.errors import ConfigError, LicenseError
from blur_sdk.licence import manager as licence
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.licence.state import STATE_FILE, load_state, state_key
from blur_sdk.settings import Settings, load_settings

URL = "https://licence.test/v1/sdk-license"
HOUR = 3600.0
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z

VALID = {
    "valid": True,
    "expires_at": "2030-01-01T00:00:00Z",
    "quota": {"calls": 1000, "used": 10},
    "message": "ok",
}


class FakeClock:
    """Wall and monotonic time under the test's control."""

    def __init__(self) -> None:
        self.wall = START
        self.mono = 100.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_settings(tmp_path: Path, **env: str) -> Settings:
    values = {
        "LICENSE_KEY": "key-123",
        "TOKEN": "tok-456",
        "LICENSE_SERVER_URL": URL,
        "LICENSE_DIR": str(tmp_path / "licence"),
    }
    values.update(env)
    return load_settings(env=values, config_dir=tmp_path / "no-config")


def make_manager(tmp_path: Path, clock: FakeClock, **env: str) -> LicenceManager:
    return LicenceManager(
        make_settings(tmp_path, **env), clock=clock.time, monotonic=clock.monotonic
    )


def answer(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def checked(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock, **reply: Any
) -> LicenceManager:
    """A manager after one check, answered as reply (responses' json=, status=, body=)."""
    rsps.post(URL + "/", **reply)
    manager = make_manager(tmp_path, clock)
    manager.check_now()
    return manager


def reason_of(manager: LicenceManager) -> str:
    with pytest.raises(LicenseError) as caught:
        manager.require_valid()
    return str(caught.value)


def online_then_offline(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock, **env: str
) -> LicenceManager:
    """A manager whose first check succeeded and whose second found the server unreachable."""
    manager = make_manager(tmp_path, clock, **env)
    rsps.post(URL + "/", json=VALID)
    manager.check_now()
    manager.require_valid()
    rsps.replace(responses.POST, URL + "/", body=requests.exceptions.ConnectTimeout("timed out"))
    manager.check_now()
    return manager


def test_valid_answer(tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock) -> None:
    manager = checked(tmp_path, clock, rsps, json=VALID)
    manager.require_valid()
    sent = rsps.calls[0].request
    assert sent.headers["Authorization"] == "Token tok-456"
    body = json.loads(sent.body or b"")
    assert body["license_key"] == "key-123"
    assert body["usage"] == {"calls": 0}
    assert "version" in body
    status = manager.status()
    json.dumps(status)
    assert status["mode"] == "licensed"
    assert status["valid"] is True
    assert status["expires_at"] == "2030-01-01T00:00:00+00:00"
    assert status["quota"] == {"calls": 1000, "used": 10}
    assert status["grace_until"] == "2023-11-17T22:13:20+00:00"


def test_not_checked_yet_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    assert "not validated yet" in reason_of(make_manager(tmp_path, clock))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"valid": False, "message": "licence revoked"}, "licence revoked"),
        ({"expires_at": "2023-11-01T00:00:00Z"}, "expired at 2023-11-01"),
        ({"quota": {"calls": 100, "used": 100}}, "quota exceeded: 100 of 100"),
        ({"quota": {"calls": 100, "used": 250}}, "quota exceeded"),
    ],
    ids=["invalid", "expired", "quota-reached", "quota-exceeded"],
)
def test_refusing_answers(
    tmp_path: Path,
    clock: FakeClock,
    rsps: responses.RequestsMock,
    changes: dict[str, Any],
    expected: str,
) -> None:
    manager = checked(tmp_path, clock, rsps, json=answer(**changes))
    assert expected in reason_of(manager)
    status = manager.status()
    assert status["valid"] is False
    assert expected in status["reason"]


def test_expiry_is_reached_while_running(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = checked(tmp_path, clock, rsps, json=answer(expires_at="2023-11-15T00:00:00+00:00"))
    manager.require_valid()
    clock.advance(2 * HOUR)
    assert "expired" in reason_of(manager)


def test_quota_counts_unreported_calls(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = checked(tmp_path, clock, rsps, json=answer(quota={"calls": 100, "used": 98}))
    manager.record_call()
    manager.require_valid()
    manager.record_call()
    assert "quota exceeded: 100 of 100" in reason_of(manager)


def test_unlimited_quota(tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock) -> None:
    unlimited = answer(quota={"calls": None, "used": 5}, expires_at=None)
    manager = checked(tmp_path, clock, rsps, json=unlimited)
    for _ in range(5):
        manager.record_call()
    manager.require_valid()


FAILURES: list[dict[str, Any]] = [
    {"body": requests.exceptions.ConnectTimeout("connect timed out")},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
    {"body": requests.exceptions.ConnectionError("connection refused")},
    {"status": 500, "json": {"detail": "boom"}},
    {"status": 503, "body": "<html>maintenance</html>"},
    {"status": 200, "body": "this is not json"},
    {"status": 200, "json": ["valid", True]},
    {"status": 200, "json": {"valid": "yes"}},
    {"status": 200, "json": answer(expires_at="next tuesday")},
    {"status": 200, "json": answer(quota={"calls": "many", "used": 0})},
    {"status": 404, "json": {"detail": "not found"}},
]
FAILURE_IDS = [
    "connect-timeout",
    "read-timeout",
    "connection-error",
    "http-500",
    "http-503-html",
    "garbage",
    "json-list",
    "valid-not-bool",
    "bad-expires-at",
    "bad-quota",
    "http-404",
]


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_unreachable_keeps_serving_in_grace(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    manager = make_manager(tmp_path, clock)
    rsps.post(URL + "/", json=VALID)
    manager.check_now()
    rsps.replace(responses.POST, URL + "/", **failure)
    clock.advance(HOUR)
    manager.check_now()  # must not raise
    manager.require_valid()
    status = manager.status()
    assert status["valid"] is True
    assert status["last_error"]


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_unreachable_without_previous_success_is_refused(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    manager = checked(tmp_path, clock, rsps, **failure)
    assert "unreachable since 2023-11-14T22:13:20+00:00" in reason_of(manager)


def test_grace_then_refused(tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock) -> None:
    manager = online_then_offline(tmp_path, clock, rsps)
    clock.advance(71 * HOUR)
    manager.check_now()
    manager.require_valid()
    clock.advance(2 * HOUR)
    manager.check_now()
    reason = reason_of(manager)
    assert "unreachable since 2023-11-14T22:13:20+00:00" in reason
    assert "72 h" in reason
    assert manager.status()["valid"] is False
    rsps.replace(responses.POST, URL + "/", json=VALID)  # back online: serving again
    manager.check_now()
    manager.require_valid()


def test_configurable_grace(tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock) -> None:
    manager = online_then_offline(tmp_path, clock, rsps, LICENSE_GRACE_HOURS="2")
    clock.advance(1.5 * HOUR)
    manager.require_valid()
    clock.advance(HOUR)
    assert "grace of 2 h" in reason_of(manager)


def test_zero_grace_refuses_on_first_failure(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = make_manager(tmp_path, clock, LICENSE_GRACE_HOURS="0")
    rsps.post(URL + "/", json=VALID)
    manager.check_now()
    clock.advance(60)
    manager.require_valid()  # online: fine between checks
    rsps.replace(responses.POST, URL + "/", status=502)
    manager.check_now()
    assert "unreachable" in reason_of(manager)


def test_stale_state_without_checks_is_refused(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = make_manager(tmp_path, clock)
    rsps.post(URL + "/", json=VALID)
    manager.check_now()
    clock.advance(73 * HOUR)  # no check ran at all (e.g. the thread died)
    assert "unreachable since 2023-11-14T22:13:20+00:00" in reason_of(manager)


def test_restart_offline_keeps_state(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    first = online_then_offline(tmp_path, clock, rsps)
    first.record_call()
    first.record_call()
    first.stop()  # the process ends: calls still in memory are written
    clock.advance(10 * HOUR)
    second = make_manager(tmp_path, clock)
    second.check_now()  # still offline
    second.require_valid()
    status = second.status()
    assert status["calls_since_report"] == 2
    assert status["last_success"] == "2023-11-14T22:13:20+00:00"
    clock.advance(63 * HOUR)
    third = make_manager(tmp_path, clock)
    assert "unreachable since" in reason_of(third)


@pytest.mark.parametrize("tamper", ["edit", "unsigned", "garbage", "other-key"])
def test_tampered_state_gives_no_grace(
    tmp_path: Path,
    clock: FakeClock,
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    tamper: str,
) -> None:
    online_then_offline(tmp_path, clock, rsps)  # writes the state file
    path = tmp_path / "licence" / STATE_FILE
    document = json.loads(path.read_text())
    state = json.loads(document["state"])
    if tamper == "edit":
        state["last_success"] = START + 70 * HOUR  # try to push the grace further
        document["state"] = json.dumps(state)
        path.write_text(json.dumps(document))
    elif tamper == "unsigned":
        path.write_text(json.dumps({"state": json.dumps(state)}))
    elif tamper == "garbage":
        path.write_text("{not json")
    clock.advance(HOUR)
    settings_env = {"TOKEN": "another-token"} if tamper == "other-key" else {}
    with caplog.at_level(logging.WARNING):
        second = make_manager(tmp_path, clock, **settings_env)
    assert "ignored" in caplog.text
    second.check_now()  # offline
    assert "no successful licence check on record" in reason_of(second)


def test_clock_set_back_does_not_extend_grace(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = online_then_offline(tmp_path, clock, rsps)
    clock.advance(71 * HOUR)
    manager.require_valid()
    clock.wall -= 70 * HOUR  # clock set back; real time goes on
    clock.advance(2 * HOUR)
    assert "unreachable" in reason_of(manager)


def test_clock_forward_then_back_does_not_extend_grace(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = online_then_offline(tmp_path, clock, rsps)
    clock.wall += 100 * HOUR  # jump forward: seen once
    assert "unreachable" in reason_of(manager)
    clock.wall -= 100 * HOUR  # and back: still refused
    assert "unreachable" in reason_of(manager)


def test_clock_set_back_across_restart(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    first = online_then_offline(tmp_path, clock, rsps)
    clock.advance(71 * HOUR)
    first.check_now()  # persists the highest wall time seen
    clock.wall = START + HOUR  # restart with the clock set back 70 h
    clock.mono = 5.0
    second = make_manager(tmp_path, clock)
    second.require_valid()
    clock.advance(2 * HOUR)
    assert "unreachable" in reason_of(second)


def test_usage_reported_and_cleared_only_after_success(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = online_then_offline(tmp_path, clock, rsps)
    for _ in range(3):
        manager.record_call()
    manager.check_now()  # offline: kept
    assert manager.status()["calls_since_report"] == 3
    reported = [json.loads(call.request.body or b"")["usage"]["calls"] for call in rsps.calls]
    assert reported == [0, 0, 3]
    rsps.replace(responses.POST, URL + "/", status=500)
    manager.check_now()
    assert manager.status()["calls_since_report"] == 3
    rsps.replace(responses.POST, URL + "/", json=VALID)
    manager.check_now()
    assert json.loads(rsps.calls[-1].request.body or b"")["usage"] == {"calls": 3}
    assert manager.status()["calls_since_report"] == 0
    manager.record_call()
    manager.check_now()
    assert json.loads(rsps.calls[-1].request.body or b"")["usage"] == {"calls": 1}


def test_unauthorised_is_invalid_and_keeps_usage(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    rsps.post(URL + "/", status=401, json={"detail": "Invalid token."})
    manager = make_manager(tmp_path, clock)
    manager.record_call()
    manager.check_now()
    assert "refused the licence key or token (HTTP 401)" in reason_of(manager)
    assert manager.status()["calls_since_report"] == 1


def test_community_mode(tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock) -> None:
    manager = make_manager(tmp_path, clock, LICENSE_KEY="", TOKEN="")
    manager.check_now()
    manager.start()
    manager.record_call()
    manager.require_valid()
    manager.stop()
    status = manager.status()
    assert status["mode"] == "community"
    assert status["valid"] is True
    assert status["calls_since_report"] == 1
    assert len(rsps.calls) == 0
    assert not (tmp_path / "licence").exists()


def test_licence_key_without_token_is_a_config_error(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="TOKEN"):
        make_manager(tmp_path, clock, TOKEN="")


def test_background_thread_start_stop(tmp_path: Path, rsps: responses.RequestsMock) -> None:
    rsps.post(URL + "/", json=VALID)
    settings = dataclasses.replace(make_settings(tmp_path), license_check_interval=0.02)
    manager = LicenceManager(settings)
    manager.start()
    manager.require_valid()  # the first check ran before start() returned
    deadline = time.monotonic() + 5.0
    while len(rsps.calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(rsps.calls) >= 4
    begun = time.monotonic()
    manager.stop()
    assert time.monotonic() - begun < 1.0
    count = len(rsps.calls)
    time.sleep(0.1)
    assert len(rsps.calls) == count


def test_stop_is_prompt_with_a_long_interval(tmp_path: Path, rsps: responses.RequestsMock) -> None:
    rsps.post(URL + "/", json=VALID)
    manager = LicenceManager(make_settings(tmp_path))  # interval: one hour
    manager.start()
    begun = time.monotonic()
    manager.stop()
    assert time.monotonic() - begun < 1.0
    assert len(rsps.calls) == 1


def test_successful_check_recovers_from_a_forward_clock_glitch(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    manager = make_manager(tmp_path, clock)
    rsps.post(URL + "/", json=answer(expires_at="2024-01-01T00:00:00Z"))
    manager.check_now()
    clock.wall += 365 * 24 * HOUR  # NTP glitch: a year ahead, seen once
    assert "expired" in reason_of(manager)
    clock.wall -= 365 * 24 * HOUR
    manager.check_now()  # the server still says valid
    manager.require_valid()


# -- several workers (processes) sharing LICENSE_DIR ------------------------------------------


def on_disk(tmp_path: Path) -> int:
    """The pending calls in the state file."""
    path = tmp_path / "licence" / STATE_FILE
    return load_state(path, state_key("key-123", "tok-456")).pending_calls


def reported(rsps: responses.RequestsMock) -> list[int]:
    return [json.loads(call.request.body or b"")["usage"]["calls"] for call in rsps.calls]


def assert_no_temporary_files(tmp_path: Path) -> None:
    names = {path.name for path in (tmp_path / "licence").iterdir()}
    assert names <= {STATE_FILE, "licence-state.lock", "licence-check.lock"}, names


def test_two_workers_report_the_sum(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    rsps.post(URL + "/", json=VALID)
    first, second = make_manager(tmp_path, clock), make_manager(tmp_path, clock)
    for _ in range(2):
        first.record_call()
    for _ in range(3):
        second.record_call()
    second.flush()  # what its background thread does within FLUSH_INTERVAL
    first.check_now()
    assert reported(rsps) == [5]
    assert on_disk(tmp_path) == 0
    second.check_now()  # nothing is reported twice
    assert reported(rsps) == [5, 0]
    second.require_valid()
    assert first.status()["calls_since_report"] == second.status()["calls_since_report"] == 0
    assert_no_temporary_files(tmp_path)


def test_calls_recorded_during_a_check_stay_pending(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    first, second = make_manager(tmp_path, clock), make_manager(tmp_path, clock)
    second.record_call()
    second.record_call()
    second.flush()

    def meanwhile(request: Any) -> tuple[int, dict[str, str], str]:
        for _ in range(4):  # the other worker serves while the check is in flight
            second.record_call()
        second.flush()
        return 200, {}, json.dumps(VALID)

    rsps.add_callback(responses.POST, URL + "/", callback=meanwhile)
    first.check_now()
    assert reported(rsps) == [2]
    assert on_disk(tmp_path) == 4
    assert first.status()["calls_since_report"] == 4
    rsps.replace(responses.POST, URL + "/", json=VALID)
    second.check_now()
    assert reported(rsps) == [2, 4]
    assert on_disk(tmp_path) == 0


def test_concurrent_checks_report_calls_once(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    first, second = make_manager(tmp_path, clock), make_manager(tmp_path, clock)
    for _ in range(3):
        first.record_call()
    other = threading.Thread(target=second.check_now)

    def slow(request: Any) -> tuple[int, dict[str, str], str]:
        if not other.is_alive():
            other.start()  # the second worker's check starts while this one is in flight
            time.sleep(0.2)
        return 200, {}, json.dumps(VALID)

    rsps.add_callback(responses.POST, URL + "/", callback=slow)
    first.check_now()
    other.join(5.0)
    assert reported(rsps) == [3, 0]
    assert on_disk(tmp_path) == 0


def test_a_worker_does_not_overwrite_a_newer_check(
    tmp_path: Path, clock: FakeClock, rsps: responses.RequestsMock
) -> None:
    first, second = make_manager(tmp_path, clock), make_manager(tmp_path, clock)
    rsps.post(URL + "/", body=requests.exceptions.ConnectTimeout("timed out"))
    second.check_now()  # second: offline, never validated
    clock.advance(60)
    rsps.replace(responses.POST, URL + "/", json=VALID)
    first.check_now()
    clock.advance(60)
    second.record_call()  # written with second's stale copy merged into the file
    second.flush()
    second.require_valid()  # and second took the newer check from the file
    assert second.status()["last_error"] is None
    third = make_manager(tmp_path, clock)
    third.require_valid()
    assert third.status()["calls_since_report"] == 1


def test_threads_of_several_workers_lose_no_call(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(licence, "FLUSH_INTERVAL", 0.0)  # try to write at every call
    managers = [make_manager(tmp_path, clock) for _ in range(3)]
    calls = 150

    def serve(manager: LicenceManager) -> None:
        for _ in range(calls):
            manager.record_call()

    threads = [threading.Thread(target=serve, args=(m,)) for m in managers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)
    for manager in managers:
        manager.stop()
    assert on_disk(tmp_path) == len(threads) * calls
    assert_no_temporary_files(tmp_path)


def worker_process(folder: str, calls: int, go: Any, stop: bool) -> None:
    """A gunicorn worker in a spawned process: serves `calls` requests, then ends."""
    if stop:
        licence.FLUSH_INTERVAL = 0.0  # try to write at every call: the most contention
    manager = LicenceManager(make_settings(Path(folder)))
    go.wait(10.0)
    for _ in range(calls):
        manager.record_call()
    if stop:
        manager.stop()
    # else: the manager is dropped with calls in memory, written at interpreter exit


def test_worker_processes_lose_no_call(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    calls = 300
    workers = [
        context.Process(target=worker_process, args=(str(tmp_path), calls, go, stop))
        for stop in (True, True, False)
    ]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(30.0)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert on_disk(tmp_path) == len(workers) * calls
    assert_no_temporary_files(tmp_path)
