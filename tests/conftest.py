"""Shared fixtures: where the shared corpus lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSBOT_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"

# Properties are about correctness, never speed: no per-example deadline (a loaded CI machine
# would make them flaky), and slow data generation is not a failure.
settings.register_profile(
    "newsbot", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("newsbot")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared evaluation corpus (../shared/corpus beside the repository)."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}; set NEWSBOT_SHARED")
    return CORPUS


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """The article the project was created from, with its expected summary."""
    return SHARED / "seed"
