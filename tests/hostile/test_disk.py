"""A full disk: a change that could not be written is not in memory either, and no part of it
reaches the file later."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.delivery.chats import Chats
from bot.delivery.prefs import ChatPrefs, DailyTimes
from bot.errors import StoreError
from bot.store.chatstore import JournalChatStore
from bot.store.journal import Journal

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FULL = Path("/dev/full")  # every write fails with ENOSPC


def prefs(chat_id: int) -> ChatPrefs:
    return ChatPrefs(
        chat_id=chat_id,
        active=True,
        time_zone="UTC",
        schedule=DailyTimes((time(8, 0),)),
        items_per_digest=10,
        created=NOW,
        updated=NOW,
    )


def test_a_start_on_a_full_disk_leaves_memory_as_the_disk(tmp_path: Path) -> None:
    """/start's write fails: the chat is not subscribed in memory either."""
    store = JournalChatStore.open(tmp_path / "chats")
    chats = Chats(store)
    journal = store._journal
    real = journal._file
    journal._file = FULL.open("ab", buffering=0)  # the disk is full for this write
    try:
        with pytest.raises(StoreError, match="cannot write"):
            chats.put(prefs(42))
    finally:
        journal._file.close()
        journal._file = real
    assert chats.get(42) is None
    assert store.get("chats", "42") is None
    chats.put(prefs(43))  # space again: later writes work, and 42 does not come back
    store.close()
    reopened = Chats(JournalChatStore.open(tmp_path / "chats"))
    assert reopened.get(42) is None
    assert reopened.get(43) is not None


def test_a_failed_sync_leaves_nothing_behind_for_a_later_write(tmp_path: Path) -> None:
    """The journal writes unbuffered and cuts back a failed group: after a failure and a
    success, the file holds exactly the successful records."""
    journal = Journal.open(tmp_path / "j")
    journal.append({"n": 1})
    journal.sync()
    good = journal.journal_bytes
    journal.append({"n": 2})
    real = journal._file
    journal._file = FULL.open("ab", buffering=0)  # the disk fills up for this one sync
    with pytest.raises(StoreError):
        journal.sync()
    journal._file.close()
    journal._file = real
    journal.append({"n": 3})
    journal.sync()
    assert good < journal.journal_bytes
    journal.close()
    (path,) = (tmp_path / "j").glob("journal-*.jsonl")
    assert [json.loads(line)["n"] for line in path.read_bytes().splitlines()] == [1, 3]
