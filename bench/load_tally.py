"""What a load phase saw: each API's answers tallied, then summarised (throughput, latency
percentiles, statuses, errors)."""

from __future__ import annotations

import dataclasses
import statistics
import threading
from collections import Counter
from typing import Any

from bench.load_requests import Template


@dataclasses.dataclass
class Tally:
    """What one phase saw for one API."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    valid_latencies: list[float] = dataclasses.field(default_factory=list)
    statuses: Counter[str] = dataclasses.field(default_factory=Counter)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def add(self, template: Template, status: str, right: bool, seconds: float) -> None:
        """Record one answer (its status: an HTTP code, a Kaze code or task status)."""
        with self.lock:
            self.latencies.append(seconds)
            if template.valid:
                self.valid_latencies.append(seconds)
            self.statuses[status] += 1
            if not right:
                self.errors[f"{template.name}->{status}"] += 1


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values, in milliseconds."""
    ordered = sorted(values) or [0.0]
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1)


def summarise(tally: Tally, seconds: float) -> dict[str, Any]:
    """Throughput, latency percentiles and status counts of one phase and API."""
    count = len(tally.latencies)
    return {
        "requests": count,
        "throughput_rps": round(count / seconds, 2),
        "p50_ms": percentile(tally.latencies, 0.50),
        "p90_ms": percentile(tally.latencies, 0.90),
        "p99_ms": percentile(tally.latencies, 0.99),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if count else 0.0,
        "valid_requests": len(tally.valid_latencies),
        "valid_p50_ms": percentile(tally.valid_latencies, 0.50),
        "valid_p99_ms": percentile(tally.valid_latencies, 0.99),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
    }
