"""PostgreSQL as the shared store: the connection pool and the schema, applied at start.

Used when ``NEWSBOT_DATABASE_URL`` or ``[store] database_url`` names a database
(bot.config.database). psycopg is an optional extra (``pip install 'newsbot[postgres]'``),
imported only here and only then; without it, ``Database.open`` says so in one line.

``Database.open(url)`` migrates (bot.store.pgschema) and opens a pool. A connection from
``db.connection()`` runs one transaction: committed when the block ends, rolled back when it
raises.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.config.database import ENV_URL, SETTINGS_KEY, describe
from bot.errors import ConfigError, StoreError
from bot.store.pgschema import migrate

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

log = logging.getLogger("newsbot.store")

EXTRA_ADVICE = "install the PostgreSQL extra: pip install 'newsbot[postgres]'"


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(
            f"{ENV_URL} (or {SETTINGS_KEY}) is set but {name} is not installed: {EXTRA_ADVICE}"
        ) from None


def import_psycopg() -> Any:
    """psycopg, or ConfigError in one line naming the extra to install."""
    return _import("psycopg")


class Database:
    """A pool of connections to one migrated PostgreSQL database."""

    def __init__(self, url: str, pool: psycopg_pool.ConnectionPool[Any]) -> None:
        self.url = url
        self._pool = pool

    @classmethod
    def open(cls, url: str, *, max_size: int = 8, timeout_s: float = 30.0) -> Database:
        """Connect and migrate; StoreError naming the database when it cannot be used."""
        pg = _import("psycopg")
        pool_module = _import("psycopg_pool")
        try:
            with pg.connect(url, autocommit=True, connect_timeout=10) as conn:
                applied = migrate(conn)
        except pg.Error as exc:
            raise StoreError(f"cannot use the database {describe(url)}: {_reason(exc)}") from None
        if applied:
            log.info("database migrated url=%s applied=%d", describe(url), applied)
        pool = pool_module.ConnectionPool(
            url, min_size=1, max_size=max_size, timeout=timeout_s, open=True, name="newsbot"
        )
        return cls(url, pool)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection for one transaction (committed at the end of the block)."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def jsonb(doc: Any) -> Any:
    """``doc`` adapted as a jsonb parameter (psycopg's wrapper, imported only when used)."""
    return _import("psycopg.types.json").Jsonb(doc)


def safe_text(text: str) -> str:
    """Text PostgreSQL can hold: NUL characters dropped, lone surrogates replaced."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def safe_json(value: Any) -> Any:
    """``value`` (JSON-shaped) with every string made ``safe_text``."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k): safe_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [safe_json(v) for v in value]
    return value


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
