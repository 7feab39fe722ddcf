"""A crash-safe record on disk: a snapshot plus an append-only journal of JSON lines.

Layout (one folder)::

    snapshot.json            the whole state at the last compaction, and the journal it
                             continues with; replaced atomically (write, fsync, rename).
                             Its first line is a JSON object (the state's small part and the
                             generation); large states follow as one JSON record a line,
                             written and read one at a time so they are never in memory
                             twice (a snapshot of one line is the older format, still read)
    journal-000007.jsonl     one JSON object a line, appended after that snapshot
    lock                     held (flock) while a process has the folder open

Appending puts a line in memory; ``sync()`` writes every line appended so far and fsyncs
them, so a caller that appends from several tasks pays one fsync for the group (group
commit). Lines keep their order on disk. ``sync()`` may run in a worker thread while the
owning thread goes on appending.

A crash (kill -9, power loss) can leave the last line torn: it is ignored on load. Any other
damage (an unreadable line before the last, the journal the snapshot names gone) refuses to
open, naming the file, rather than forget what follows it. ``compact(state)`` writes a new
snapshot naming a fresh, empty journal, then deletes the old journal: a crash in between
leaves a snapshot and a journal that agree, since the snapshot names the journal to replay
and the older one is deleted on the next open.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bot.errors import StoreError
from bot.store.atomic import TEMP_SUFFIX, write_atomically

log = logging.getLogger(__name__)

JSON = dict[str, Any]

SNAPSHOT = "snapshot.json"
SNAPSHOT_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class Journal:
    """One folder's snapshot and journal; see the module docstring."""

    def __init__(
        self,
        folder: Path,
        lock_fd: int,
        generation: int,
        snapshot: JSON | None,
        what: str = "delivery ledger",
    ) -> None:
        self.folder = folder
        self.what = what
        self._lock_fd: int | None = lock_fd
        self._generation = generation
        self._snapshot = snapshot
        self._file = self._journal_path(generation).open("ab", buffering=0)
        self._buffer: list[bytes] = []
        self._buffered = 0  # bytes in _buffer
        self._appended = 0  # lines appended since opening
        self._synced = 0  # lines known durable
        self._buffer_lock = threading.Lock()
        self._file_lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path, *, what: str = "delivery ledger") -> Journal:
        """Open (creating) the folder, holding its lock; StoreError when another process has it
        or its snapshot cannot be read. ``what`` names the record in messages."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"cannot open the {what} at {folder}: {error}") from error
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(lock_fd)
            raise StoreError(
                f"the {what} at {folder} is in use by another newsbot process; stop it first"
            ) from error
        try:
            snapshot = _read_snapshot(folder / SNAPSHOT, what)
        except StoreError:
            os.close(lock_fd)
            raise
        generation = int(snapshot["generation"]) if snapshot else 0
        try:
            _check_journal_present(folder, generation, snapshot is not None, what)
        except StoreError:
            os.close(lock_fd)
            raise
        return cls(folder, lock_fd, generation, snapshot, what)

    # -- reading ----------------------------------------------------------------------------

    @property
    def snapshot(self) -> JSON | None:
        """The state as of the opening (None for a new folder, or once released): the
        snapshot's first line; ``snapshot_records()`` gives the rest."""
        return self._snapshot

    def snapshot_records(self) -> Iterator[JSON]:
        """The records the snapshot holds after its first line, read one at a time."""
        if self._snapshot is None:
            return
        path = self.folder / SNAPSHOT
        try:
            with path.open("rb") as file:
                file.readline()
                for line in file:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("a record is not a JSON object")
                    yield record
        except (OSError, ValueError) as error:
            raise StoreError(
                f"the {self.what} snapshot {path} is damaged ({error}); restore it from a backup"
            ) from error

    def release_snapshot(self) -> None:
        """Forget the snapshot read at opening (the caller has loaded it: keeping a second
        copy of the whole state in memory serves nothing)."""
        self._snapshot = None

    def replay(self) -> Iterator[JSON]:
        """The journal's records, in order. A torn last line (a crash mid-append: no final
        newline) is ignored; any other unreadable line raises StoreError naming the file and
        line, since replaying past it would forget what came after."""
        path = self._journal_path(self._generation)
        with path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    log.warning("journal torn line ignored file=%s line=%d", path, number)
                    return
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    raise StoreError(
                        f"the {self.what} journal {path} is damaged at line {number} (not a "
                        "complete record); newsbot does not start with it, since replaying "
                        "past it would forget what came after: restore the folder from a backup"
                    )
                yield record

    # -- writing ----------------------------------------------------------------------------

    def append(self, record: JSON) -> int:
        """Queue one record; returns its sequence number (durable once ``synced`` reaches it)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._buffer_lock:
            self._buffer.append(line)
            self._buffered += len(line)
            self._appended += 1
            return self._appended

    @property
    def appended(self) -> int:
        return self._appended

    @property
    def synced(self) -> int:
        return self._synced

    def sync(self) -> None:
        """Write and fsync every record appended so far (safe to call from another thread)."""
        with self._file_lock:
            with self._buffer_lock:
                lines, self._buffer, self._buffered = self._buffer, [], 0
                upto = self._appended
            if lines:
                durable = self._file.tell()
                try:
                    _write_all(self._file, b"".join(lines))
                    os.fsync(self._file.fileno())
                except OSError as error:
                    # A full disk: nothing of this group may reach the file later (the caller
                    # did not apply it), so cut back what part of it was written.
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._file.fileno(), durable)
                    raise StoreError(f"cannot write the {self.what}: {error}") from error
            self._synced = max(self._synced, upto)

    @property
    def buffered_bytes(self) -> int:
        """Bytes appended and not yet written (``sync`` writes them)."""
        return self._buffered

    @property
    def journal_bytes(self) -> int:
        """The size of the journal on disk, plus what waits to be written."""
        return self._file.tell() + self._buffered

    def compact(self, state: JSON, records: Iterable[JSON] = ()) -> None:
        """Make ``state`` and ``records`` (everything appended so far applied) the new
        snapshot and start an empty journal; every appended record is durable when this
        returns. ``records`` are written as they come (a generator keeps memory flat)."""
        with self._file_lock:
            with self._buffer_lock:
                self._buffer, self._buffered = [], 0
                upto = self._appended
            generation = self._generation + 1
            new_journal = self._journal_path(generation)
            snapshot = {"version": SNAPSHOT_VERSION, "generation": generation, **state}
            try:
                with new_journal.open("wb") as file:
                    os.fsync(file.fileno())
                # the folder's fsync in write_atomically also makes the new journal's name durable
                write_atomically(self.folder / SNAPSHOT, _lines(snapshot, records))
            except OSError as error:
                raise StoreError(f"cannot write the {self.what} snapshot: {error}") from error
            self._file.close()
            self._generation = generation
            self._snapshot = None
            self._file = new_journal.open("ab", buffering=0)
            self._synced = max(self._synced, upto)
            self._remove_stale()

    def close(self) -> None:
        if self._lock_fd is None:
            return
        self.sync()
        self._file.close()
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- files ------------------------------------------------------------------------------

    def _journal_path(self, generation: int) -> Path:
        return self.folder / f"journal-{generation:06d}.jsonl"

    def _remove_stale(self) -> None:
        keep = self._journal_path(self._generation).name
        for path in self.folder.glob("journal-*.jsonl"):
            if path.name != keep:
                path.unlink(missing_ok=True)
        for path in self.folder.glob(f".{SNAPSHOT}.*{TEMP_SUFFIX}"):  # a crash mid-compaction
            path.unlink(missing_ok=True)


def _write_all(file: BinaryIO, data: bytes) -> None:
    """Write every byte through an unbuffered file (no bytes left behind in a buffer)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.ENOSPC, "no bytes written")
        view = view[written:]


def _check_journal_present(folder: Path, generation: int, has_snapshot: bool, what: str) -> None:
    """StoreError when the journal the snapshot names is missing, or journals exist without
    the snapshot that continues into them: either way records would be lost silently."""
    path = folder / f"journal-{generation:06d}.jsonl"
    if has_snapshot and not path.exists():
        raise StoreError(
            f"the {what} journal {path} is missing (its snapshot {folder / SNAPSHOT} names it); "
            "newsbot does not start without it: restore the folder from a backup"
        )
    if not has_snapshot:
        later = sorted(p.name for p in folder.glob("journal-*.jsonl") if p != path)
        if later:
            raise StoreError(
                f"the {what} snapshot {folder / SNAPSHOT} is missing while its journal "
                f"{folder / later[-1]} exists; newsbot does not start without it: restore the "
                "folder from a backup"
            )


def _read_snapshot(path: Path, what: str) -> JSON | None:
    try:
        with path.open("rb") as file:
            first_line = file.readline()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"cannot read the {what} snapshot {path}: {error}") from error
    try:
        snapshot = json.loads(first_line)
    except ValueError as error:
        raise StoreError(
            f"the {what} snapshot {path} is damaged ({error}); restore it from a backup"
        ) from error
    if not isinstance(snapshot, dict) or snapshot.get("version") not in _READABLE_VERSIONS:
        raise StoreError(f"the {what} snapshot {path} has an unknown format")
    return snapshot


def _lines(header: JSON, records: Iterable[JSON]) -> Iterator[bytes]:
    yield json.dumps(header, ensure_ascii=False).encode() + b"\n"
    for record in records:
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
