"""glibc malloc settings: what the runner asks of glibc, and the user's own setting kept."""

from __future__ import annotations

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
