"""Shared fixtures: where the shared corpus lives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.store.pg import Database
from tests.support.postgres import PostgresCluster

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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL server for the whole session (started on first use). Missing
    server binaries fail the tests that need it: CI installs them; nothing is skipped."""
    try:
        cluster = PostgresCluster.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    """A database migrated as newsbot migrates at start, kept as the template of the others."""
    url = pg_cluster.create_database()
    Database.open(url).close()
    return pg_cluster.make_template(url)


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster, pg_template: str) -> Iterator[str]:
    """A database of its own for one test (schema in place), owned by an ordinary role."""
    url = pg_cluster.create_database(pg_template)
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture
def pg_empty_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    """An empty database (no schema yet), owned by an ordinary role."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[Database]:
    """The test's database as newsbot opens it."""
    with Database.open(pg_url) as db:
        yield db
