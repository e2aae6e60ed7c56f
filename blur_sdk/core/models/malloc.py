"""Process-wide memory settings for the model runner: how much freed memory (glibc malloc) and
how many compiled kernels (oneDNN) stay in the process."""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc mallopt parameters
M_ARENA_MAX = -8
# glibc madvises its large mappings for transparent huge pages (where the kernel's THP mode is
# `madvise` or `always`): a released buffer allocated again then faults in 2 MB pages, not 4 KB
# ones (OV_RELEASE_MEMORY=always: their method 15-30 % slower per call than `switch` instead
# of 35-60 %, docs/latency-history.md).
# Read by glibc when a process starts: set for the server's processes by `serve` and the image's
# entrypoint unless GLIBC_TUNABLES is set already.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"
MMAP_THRESHOLD_BYTES = 1 << 20  # (4 MB: 8 MB more in-process, 25-50 MiB more in the server)
ARENA_MAX = 2  # (glibc's default: 8 per core, each keeping its own freed memory)
# oneDNN's process-wide cache of compiled kernels (its default: 1,024). A compiled static shape
# holds its own kernels whatever this says; the cache only keeps those of shapes that ran on a
# dynamic-shape model after the model dropped them (OV_RUNTIME_CACHE). 24 full-image shapes on
# the text detector's dynamic model: +239 MB at both defaults, +131 MB at 300 and 64
# (docs/latency-history.md)
KERNEL_CACHE = 64


def _mallopt(parameter: int, value: int) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        log.info("not glibc: malloc left as it is (freed memory may stay resident)")
        return
    libc.mallopt(parameter, value)


def return_freed_buffers() -> None:
    """Allocations above 1 MB get mappings of their own, so freed buffers go back to the OS at
    once (by default the threshold climbs to 32 MB and freed memory stays resident for reuse).
    OV_RELEASE_MEMORY=always only: every large array of every request then costs fresh page
    faults (with 4 concurrent clients ~10 % of the CPU, in the kernel)."""
    _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def limit_arenas() -> None:
    """At most two malloc arenas (unless MALLOC_ARENA_MAX says otherwise): concurrent requests'
    threads otherwise each get an arena that keeps its freed memory (their benchmark's peak RSS
    923-1057 instead of 982-1134 MiB in one pair of runs, within the noise in the next)."""
    if "MALLOC_ARENA_MAX" not in os.environ:
        _mallopt(M_ARENA_MAX, ARENA_MAX)


def limit_kernel_cache() -> None:
    """oneDNN keeps at most KERNEL_CACHE kernels it no longer uses (unless
    ONEDNN_PRIMITIVE_CACHE_CAPACITY says otherwise); read when OpenVINO's CPU plugin loads."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(KERNEL_CACHE))


def with_huge_pages(environ: dict[str, str]) -> dict[str, str]:
    """A process environment with glibc's huge-page tunable, unless GLIBC_TUNABLES is set."""
    return {"GLIBC_TUNABLES": HUGE_PAGES_TUNABLE, **environ}
