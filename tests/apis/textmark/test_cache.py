"""Text-watermark answer cache: keys, hits, misses and expiry after the retention."""

from __future__ import annotations

from pathlib import Path

from blur_sdk.apis.textmark.cache import AnswerCache, cache_key

T0 = 1_700_000_000.0
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
ANSWER = {"code": 0, "data": {"url": "https://example/x.png", "blocks": [[1, 2], [3, 4]]}}


def test_key_ignores_parameter_order_and_none_values() -> None:
    first = cache_key(MD5, {"mode": "auto", "level": 2, "color": None})
    second = cache_key(MD5, {"level": 2, "mode": "auto"})
    assert first == second
    assert len(first) == 64
    assert cache_key(MD5.upper(), {"mode": "auto", "level": 2}) == first


def test_key_changes_with_image_params_or_app() -> None:
    base = cache_key(MD5, {"mode": "auto"})
    assert cache_key("0" * 32, {"mode": "auto"}) != base
    assert cache_key(MD5, {"mode": "manual"}) != base
    assert cache_key(MD5, {"mode": "auto", "x": 1}) != base
    assert cache_key(MD5, {"mode": "auto"}, app_id="abcdefghij012345") != base


def test_miss_then_hit(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "textmark.sqlite", 5 * 3600.0)
    key = cache_key(MD5, {"mode": "auto"})
    assert cache.get(key, now=T0) is None
    cache.put(key, ANSWER, now=T0)
    assert cache.get(key, now=T0 + 10) == ANSWER
    assert cache.get(cache_key(MD5, {"mode": "manual"}), now=T0 + 10) is None


def test_shared_by_caches_on_one_file(tmp_path: Path) -> None:
    AnswerCache(tmp_path / "textmark.sqlite", 60.0).put("k", ANSWER, now=T0)
    assert AnswerCache(tmp_path / "textmark.sqlite", 60.0).get("k", now=T0 + 1) == ANSWER


def test_entries_expire_after_the_retention(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "textmark.sqlite", 5 * 3600.0)
    cache.put("k", ANSWER, now=T0)
    assert cache.get("k", now=T0 + 5 * 3600 - 1) == ANSWER
    assert cache.get("k", now=T0 + 5 * 3600) is None


def test_put_replaces_and_restarts_the_retention(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "textmark.sqlite", 100.0)
    cache.put("k", ANSWER, now=T0)
    cache.put("k", {"code": 1}, now=T0 + 90)
    assert cache.get("k", now=T0 + 150) == {"code": 1}


def test_sweep_deletes_expired_entries_only(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "textmark.sqlite", 100.0)
    cache.put("old", ANSWER, now=T0)
    cache.put("new", ANSWER, now=T0 + 50)
    assert cache.sweep(now=T0 + 120) == 1
    assert cache.sweep(now=T0 + 120) == 0
    assert cache.get("new", now=T0 + 120) == ANSWER


def test_put_drops_expired_entries(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "textmark.sqlite", 100.0)
    cache.put("old", ANSWER, now=T0)
    cache.put("new", ANSWER, now=T0 + 200)
    assert cache.sweep(now=T0 + 200) == 0
