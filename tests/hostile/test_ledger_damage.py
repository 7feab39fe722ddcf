"""A damaged delivery ledger refuses to open, naming the file, instead of forgetting what it
delivered (and sending it again); only a torn last line is tolerated."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.delivery.ledger import LEDGER_DIR, Ledger
from bot.errors import StoreError
from bot.store.journal import Journal

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def journal_with_lines(tmp_path: Path, lines: int) -> Path:
    """A ledger folder whose journal holds ``lines`` records after its snapshot."""
    folder = tmp_path / LEDGER_DIR
    journal = Journal.open(folder)
    for n in range(lines):
        journal.append({"op": "digest", "chat": n, "at": NOW.isoformat()})
    journal.sync()
    journal.close()
    (path,) = folder.glob("journal-*.jsonl")
    return path


def test_a_damaged_middle_line_refuses_to_open_naming_the_file(tmp_path: Path) -> None:
    """Replaying past a bad line would drop every later delivery: the open refuses instead."""
    path = journal_with_lines(tmp_path, 5)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b'{"op": "digest", "chat": 2, "at"'  # cut short, yet a newline follows
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(StoreError, match=rf"{re.escape(str(path))}.*line 3"):
        Ledger.open(tmp_path, now=NOW)


def test_a_line_that_is_json_but_no_record_refuses_to_open(tmp_path: Path) -> None:
    path = journal_with_lines(tmp_path, 3)
    path.write_bytes(path.read_bytes() + b"[1, 2]\n")
    with pytest.raises(StoreError, match="damaged at line 4"):
        Ledger.open(tmp_path, now=NOW)


def test_a_missing_journal_refuses_to_open_naming_it(tmp_path: Path) -> None:
    """The snapshot names the journal it continues with; without it records are lost."""
    Ledger.open(tmp_path, now=NOW).close()  # compacts: a snapshot naming a fresh journal
    (path,) = (tmp_path / LEDGER_DIR).glob("journal-*.jsonl")
    path.unlink()
    with pytest.raises(StoreError, match=rf"{re.escape(str(path))} is missing"):
        Ledger.open(tmp_path, now=NOW)


def test_a_missing_snapshot_with_a_later_journal_refuses_to_open(tmp_path: Path) -> None:
    Ledger.open(tmp_path, now=NOW).close()
    (tmp_path / LEDGER_DIR / "snapshot.json").unlink()
    with pytest.raises(StoreError, match=r"snapshot .* is missing"):
        Ledger.open(tmp_path, now=NOW)


def test_a_torn_last_line_alone_is_tolerated(tmp_path: Path) -> None:
    """A crash mid-append leaves half a line at the end: the ledger opens."""
    path = journal_with_lines(tmp_path, 3)
    path.write_bytes(path.read_bytes() + b'{"op": "digest", "ch')
    Ledger.open(tmp_path, now=NOW).close()
