"""Crash-safe TinyDB storages: a database lives in memory and reaches disk in one atomic step.

TinyDB's stock ``JSONStorage`` truncates its file and writes it in place, so a crash mid-write
leaves half a file. Here a TinyDB write only changes the in-memory copy; ``flush()`` writes
the whole database to a temporary file in the same folder, flushes and fsyncs it, renames it
over the old file with ``os.replace`` and fsyncs the folder. After a crash the file holds
either the previous or the new database, never a mix.

A *volume* is a set of named databases (``state.json``, ``archive/2026-11-28.000.json``...):
``DirectoryVolume`` keeps them as files under a folder, ``MemoryVolume`` in a dict (the
seam for unit tests; it still round-trips through JSON text so tests see what disk would).

``Database`` is TinyDB over a ``BatchStorage`` with tables keyed by our own string ids, and
a schema version stamped in its ``_meta`` table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from bot.errors import StoreError
from bot.store.atomic import TEMP_SUFFIX, fsync_dir, write_atomically

Tables = dict[str, dict[str, Any]]

SCHEMA_VERSION = 1
_ADVICE = (
    "newsbot will not start afresh over it. Restore the file from a backup, or move it aside "
    "to give up what it held"
)


class BatchStorage(Storage):
    """A TinyDB storage whose writes stay in memory until ``flush()`` makes them durable."""

    def __init__(self, volume: Volume, name: str) -> None:
        self._volume = volume
        self._name = name
        self._tables: Tables | None = None
        self._loaded = False
        self._dirty = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    def read(self) -> Tables | None:
        if not self._loaded:
            text = self._volume.read_text(self._name)
            self._tables = (
                None if text is None else decode_tables(text, self._volume.where(self._name))
            )
            self._loaded = True
        return self._tables

    def write(self, data: Tables) -> None:
        self._tables = data
        self._loaded = True
        self._dirty = True

    def flush(self) -> None:
        """Write the database to its file atomically, if it changed since the last flush."""
        if self._dirty:
            self._volume.write_text(self._name, encode_tables(self._tables or {}))
            self._dirty = False

    def close(self) -> None:
        """Forget unflushed changes: only ``flush()`` writes (TinyDB calls this on close)."""


def encode_tables(tables: Tables) -> str:
    return json.dumps(tables, ensure_ascii=False, separators=(",", ":"))


def decode_tables(text: str, where: str) -> Tables:
    """Parse a database file's text; anything but a JSON object of tables is a StoreError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = "is empty" if not text.strip() else f"is not valid JSON ({exc})"
        raise StoreError(f"{where} {problem}: it is damaged or truncated; {_ADVICE}") from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise StoreError(f"{where} is JSON but not a newsbot database; {_ADVICE}")
    return data


class Volume(Protocol):
    """Named databases: where they live and how their text is read and replaced."""

    def read_text(self, name: str) -> str | None:
        """The database's text, or None when it does not exist."""

    def write_text(self, name: str, text: str) -> None:
        """Replace the database's text in one atomic, durable step."""

    def names(self, folder: str) -> list[str]:
        """Names of the databases in a folder (``"archive"`` -> ``["archive/x.json"]``), sorted."""

    def remove(self, name: str) -> None:
        """Delete a database durably; a missing one is not an error."""

    def where(self, name: str) -> str:
        """Where a database lives, for messages (its file path)."""


class DirectoryVolume:
    """Databases as JSON files under a folder, replaced atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    def where(self, name: str) -> str:
        return str(self.path(name))

    def read_text(self, name: str) -> str | None:
        path = self.path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            return data.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:
            raise StoreError(f"{path} is not UTF-8 text: it is damaged; {_ADVICE}") from None

    def write_text(self, name: str, text: str) -> None:
        path = self.path(name)
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                fsync_dir(path.parent.parent)
            write_atomically(path, text.encode("utf-8", errors="surrogatepass"))
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def names(self, folder: str) -> list[str]:
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(
            f"{folder}/{p.name}"
            for p in base.iterdir()
            if p.suffix == ".json" and not p.name.startswith(".")
        )

    def remove(self, name: str) -> None:
        path = self.path(name)
        try:
            path.unlink(missing_ok=True)
            fsync_dir(path.parent)
        except OSError as exc:
            raise StoreError(f"cannot remove {path}: {exc.strerror or exc}") from exc

    def remove_leftovers(self, folders: tuple[str, ...]) -> list[Path]:
        """Delete temporary files a crash left behind mid-write; returns them."""
        removed = []
        for folder in folders:
            base = self.root / folder if folder else self.root
            if base.is_dir():
                for path in base.glob(f".*.json.*{TEMP_SUFFIX}"):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed


class MemoryVolume:
    """Databases as JSON text in a dict: the unit-test seam, reopenable like a folder."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.writes: list[str] = []

    def where(self, name: str) -> str:
        return f"memory:{name}"

    def read_text(self, name: str) -> str | None:
        return self.files.get(name)

    def write_text(self, name: str, text: str) -> None:
        self.files[name] = text
        self.writes.append(name)

    def names(self, folder: str) -> list[str]:
        return sorted(n for n in self.files if n.startswith(f"{folder}/"))

    def remove(self, name: str) -> None:
        self.files.pop(name, None)


class KeyedTable(Table):
    """A TinyDB table whose documents are keyed by our own string ids (TinyDB's typing
    assumes integer ids; the ignores below are confined to this class)."""

    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> int:
        raise TypeError("documents here are keyed: use put()")

    def get_key(self, key: str) -> Document | None:
        return self.get(doc_id=key)  # type: ignore[call-overload, no-any-return]

    def put(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Insert or replace documents by key, in two passes over the table."""
        self.drop_keys(docs)
        self.insert_multiple(Document(doc, doc_id=key) for key, doc in docs.items())  # type: ignore[arg-type]

    def drop_keys(self, keys: Iterable[str]) -> None:
        present = [k for k in keys if self.contains(doc_id=k)]  # type: ignore[arg-type]
        if present:
            self.remove(doc_ids=present)  # type: ignore[arg-type]

    def keyed(self) -> Iterator[tuple[str, Document]]:
        for doc in self:
            yield str(doc.doc_id), doc


class Database(TinyDB):
    """One database file of a volume: keyed tables, changes durable only on ``flush()``."""

    table_class = KeyedTable

    def keyed(self, name: str) -> KeyedTable:
        table = self.table(name)
        assert isinstance(table, KeyedTable)
        return table

    def flush(self) -> None:
        storage = self.storage
        assert isinstance(storage, BatchStorage)
        storage.flush()


def open_database(volume: Volume, name: str, *, stamp: bool = False) -> Database:
    """Open a database, refusing one from a newer schema; ``stamp`` records the version in a
    new one (written with its first flush)."""
    db = Database(volume, name, storage=BatchStorage)
    meta = db.keyed("_meta").get_key("schema")
    if meta is None:
        if db.storage.read():
            raise StoreError(
                f"{volume.where(name)} has no schema version: it was not written by newsbot, "
                "or is damaged; move it aside or restore it from a backup"
            )
        if stamp:
            db.keyed("_meta").put({"schema": {"version": SCHEMA_VERSION}})
        return db
    version = meta.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(
            f"{volume.where(name)} has schema version {version!r}, newer than this newsbot "
            f"understands ({SCHEMA_VERSION}): upgrade newsbot to open this data"
        )
    return db
