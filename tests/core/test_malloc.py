"""Process-wide memory settings: what the runner asks of glibc and oneDNN, and the user's own
settings kept."""

from __future__ import annotations

import os

import pytest

from blur_sdk.core.models import malloc


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    made: list[tuple[int, int]] = []
    monkeypatch.setattr(
        malloc, "_mallopt", lambda parameter, value: made.append((parameter, value))
    )
    return made


def test_arenas_limited_unless_the_environment_sets_them(
    calls: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    malloc.limit_arenas()
    assert calls == [(malloc.M_ARENA_MAX, 2)]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # glibc read it at start: left as it is
    malloc.limit_arenas()
    assert calls == [(malloc.M_ARENA_MAX, 2)]


def test_freed_buffers_mapped_above_one_megabyte(calls: list[tuple[int, int]]) -> None:
    malloc.return_freed_buffers()
    assert calls == [(malloc.M_MMAP_THRESHOLD, 1 << 20)]


def test_huge_pages_tunable_added_unless_glibc_tunables_is_set() -> None:
    assert malloc.with_huge_pages({"PATH": "/bin"}) == {
        "PATH": "/bin",
        "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
    }
    mine = {"GLIBC_TUNABLES": "glibc.malloc.arena_max=1"}
    assert malloc.with_huge_pages(mine) == mine  # the user's own tunables win, none added


def test_kernel_cache_limited_unless_the_environment_sets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)
    malloc.limit_kernel_cache()
    assert environ == {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "64"}
    environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = "1024"  # the user's own: left as it is
    malloc.limit_kernel_cache()
    assert environ == {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "1024"}
