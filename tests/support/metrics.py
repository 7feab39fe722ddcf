"""Counting into a private Prometheus registry for one test, and reading a sample back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry

from bot import metrics


@contextmanager
def counting() -> Iterator[CollectorRegistry]:
    """``bot.metrics`` counts into a fresh registry for the block, and stops after."""
    registry = CollectorRegistry()
    assert metrics.enable(registry)
    try:
        yield registry
    finally:
        metrics.disable()


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """A sample's value; 0 for a labelled counter never bumped."""
    return registry.get_sample_value(name, labels) or 0.0
