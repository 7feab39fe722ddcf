"""The chat store: one contract for every backend, flat write costs, crashes, and the move of
chats out of an older ``state.json``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.chats import Chats
from bot.delivery.prefs import PrefsDefaults, new_chat_prefs
from bot.delivery.target import Target
from bot.store.chatstore import CHATS_DIR, ChatStore, JournalChatStore, VolumeChatStore
from bot.store.datadir import Store
from bot.store.pg import Database
from bot.store.pgchats import PgChatStore
from bot.store.storage import DirectoryVolume, MemoryVolume, open_database

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

Opener = Callable[[], ChatStore]


@pytest.fixture(params=["journal", "volume", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same chat store again each call (closing the previous one): every backend."""
    volume = MemoryVolume()
    opened: list[ChatStore] = []

    def open_again() -> ChatStore:
        if opened:
            opened[-1].close()
        store: ChatStore
        if request.param == "journal":
            store = JournalChatStore.open(tmp_path / CHATS_DIR, compact_min_bytes=300)
        elif request.param == "volume":
            store = VolumeChatStore(volume)
        else:
            store = PgChatStore(request.getfixturevalue("pg_database"))
        opened.append(store)
        return store

    yield open_again
    if opened:
        opened[-1].close()


def table(store: ChatStore, name: str) -> dict[str, Any]:
    return dict(store.items(name))


# -- the contract ------------------------------------------------------------------------------


def test_records_written_are_read_back_after_reopening(reopen: Opener) -> None:
    """What a write puts is there after a restart; what it deletes is gone."""
    store = reopen()
    store.write({"chats": {"42": {"chat_id": 42, "feeds": ["BBC"]}, "7": {"chat_id": 7}}})
    store.write({"chats": {"7": None}, "alerts": {"42": {"next_id": 2, "alerts": []}}})
    assert store.get("chats", "42") == {"chat_id": 42, "feeds": ["BBC"]}
    again = reopen()
    assert table(again, "chats") == {"42": {"chat_id": 42, "feeds": ["BBC"]}}
    assert again.get("chats", "7") is None
    assert again.get("alerts", "42") == {"next_id": 2, "alerts": []}
    assert table(again, "marks") == {}


def test_a_bad_table_name_is_refused_before_anything_is_written(reopen: Opener) -> None:
    """A write naming a table no backend accepts changes nothing, not even its valid part."""
    store = reopen()
    with pytest.raises(ValueError, match="table name"):
        store.write({"chats": {"1": {"chat_id": 1}}, "Bad Name": {"x": {}}})
    assert table(reopen(), "chats") == {}


record_values = st.none() | st.fixed_dictionaries(
    {"n": st.integers(), "words": st.text(max_size=30)}
)
writes = st.lists(
    st.dictionaries(
        st.sampled_from(["chats", "alerts", "marks"]),
        st.dictionaries(st.sampled_from(["1", "2", "-100", "é"]), record_values, max_size=3),
        max_size=3,
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(writes=writes)
def test_the_journal_store_holds_exactly_what_was_written(writes: list[Any]) -> None:
    """Any run of writes (compacting often) reads back the same before and after reopening."""
    model: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = JournalChatStore.open(Path(tmp), compact_min_bytes=100)
        for changes in writes:
            store.write(changes)
            for name, records in changes.items():
                for key, value in records.items():
                    if value is None:
                        model.get(name, {}).pop(key, None)
                    else:
                        model.setdefault(name, {})[key] = value
        store.close()
        again = JournalChatStore.open(Path(tmp))
        for name in ("chats", "alerts", "marks"):
            assert table(again, name) == model.get(name, {})
        again.close()


# -- flat costs --------------------------------------------------------------------------------


def _journal_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("journal-*.jsonl"))


@pytest.mark.parametrize("chats", [10, 5000])
def test_a_settings_change_writes_only_that_chat(tmp_path: Path, chats: int) -> None:
    """One chat's change appends one line of its own size, whether the bot has 10 chats or
    5 000: the other chats are not written again."""
    folder = tmp_path / CHATS_DIR
    store = JournalChatStore.open(folder)
    defaults = PrefsDefaults()
    Chats(store).put(*(new_chat_prefs(n, NOW, defaults) for n in range(1, chats + 1)))
    store.close()
    store = JournalChatStore.open(folder)  # everything in the snapshot, the journal empty
    snapshot = (folder / "snapshot.json").stat()
    before = _journal_bytes(folder)
    Chats(store).put(new_chat_prefs(3, NOW, defaults).changed(NOW, items_per_digest=5))
    grown = _journal_bytes(folder) - before
    store.close()
    assert 200 < grown < 1000
    assert (folder / "snapshot.json").stat().st_mtime_ns == snapshot.st_mtime_ns


# -- crashes -----------------------------------------------------------------------------------


def test_a_torn_last_line_is_ignored_and_later_writes_survive(tmp_path: Path) -> None:
    """A crash mid-append leaves half a line: the write before it stands, the torn one is not
    applied, and writes after the restart are not hidden behind it."""
    folder = tmp_path / CHATS_DIR
    store = JournalChatStore.open(folder)
    store.write({"chats": {"1": {"n": 1}}})
    store.close()
    journal = next(folder.glob("journal-*.jsonl"))
    with journal.open("ab") as file:
        file.write(b'{"op":"write","changes":{"chats":{"2":{"n"')
    store = JournalChatStore.open(folder)
    assert table(store, "chats") == {"1": {"n": 1}}
    store.write({"chats": {"3": {"n": 3}}})
    store.close()
    assert table(JournalChatStore.open(folder), "chats") == {"1": {"n": 1}, "3": {"n": 3}}


_CRASH_WRITER = """
import sys
from pathlib import Path
from bot.store.chatstore import JournalChatStore
store = JournalChatStore.open(Path(sys.argv[1]), compact_min_bytes=2_000_000)
n = 0
while True:
    store.write({"chats": {str(n): {"n": n, "pad": "x" * 300_000}}, "marks": {"last": {"n": n}}})
    print(n, flush=True)
    n += 1
"""


@pytest.mark.parametrize("kill_after_writes", [3, 11])
def test_a_writer_killed_mid_write_keeps_every_completed_change(
    tmp_path: Path, kill_after_writes: int
) -> None:
    """kill -9 while changes (and compactions) are being written: the store reopens with every
    change that had returned, each whole, and nothing half-written."""
    folder = tmp_path / CHATS_DIR
    writer = subprocess.Popen(
        [sys.executable, "-c", _CRASH_WRITER, str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout is not None
        for _ in range(kill_after_writes):
            done = int(writer.stdout.readline())
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    store = JournalChatStore.open(folder)
    last = store.get("marks", "last")
    assert last is not None
    assert last["n"] >= done
    chats = table(store, "chats")
    assert sorted(int(k) for k in chats) == list(range(last["n"] + 1))
    assert all(doc["pad"] == "x" * 300_000 for doc in chats.values())
    store.close()


# -- chats kept in state.json by an older newsbot --------------------------------------------


def _old_state(data_dir: Path, chats: int) -> dict[str, Any]:
    """A state.json as newsbot wrote it before the chat store: chats, alerts and marks in it."""
    data_dir.mkdir()
    state = open_database(DirectoryVolume(data_dir), "state.json", stamp=True)
    prefs = {str(n): {"n": n} for n in range(1, chats + 1)}
    tables: dict[str, Any] = {
        "chats": prefs,
        "alerts": {"1": {"next_id": 2, "alerts": [{"id": 1, "words": "flood"}]}},
        "marks": {"alerts_checked": {"at": NOW.isoformat()}},
    }
    for name, records in tables.items():
        state.keyed(name).put(records)
    state.keyed("feeds").put({"BBC": {"url": "https://bbc.example/rss", "etag": "x"}})
    state.flush()
    return tables


def test_chats_in_an_old_state_file_move_to_the_chat_store_once(tmp_path: Path) -> None:
    """The first start copies chats, alerts and marks out of state.json, which then keeps only
    what is its own; later starts find them in the chat store."""
    data_dir = tmp_path / "data"
    tables = _old_state(data_dir, 50)
    for _ in range(2):
        with Store.open(data_dir) as store:
            for name, records in tables.items():
                assert table(store.chat_store, name) == records
            assert store.feed_states().keys() == {"BBC"}
    state = open_database(DirectoryVolume(data_dir), "state.json")
    assert {"chats", "alerts", "marks"}.isdisjoint(state.tables())


def test_a_crash_after_the_copy_does_not_undo_later_changes(tmp_path: Path) -> None:
    """When state.json still holds chats but the chat store has records (a crash came between
    the copy and the rewrite of state.json), the store's records win and state.json is tidied."""
    data_dir = tmp_path / "data"
    _old_state(data_dir, 3)
    newer = JournalChatStore.open(data_dir / CHATS_DIR)
    newer.write({"chats": {"1": {"n": 1}, "2": {"n": 22}}})
    newer.close()
    with Store.open(data_dir) as store:
        assert table(store.chat_store, "chats") == {"1": {"n": 1}, "2": {"n": 22}}
    state = open_database(DirectoryVolume(data_dir), "state.json")
    assert "chats" not in state.tables()


# -- several processes on one database -------------------------------------------------------


def test_a_change_one_bot_process_answered_is_what_another_serves(pg_url: str) -> None:
    """Two bot processes (webhook mode, or a standby taking over) each keep the chats in
    memory: a /settings change, a new chat and a chat that moved, written by one, are what
    the other reads next, its digests and commands included."""
    defaults = PrefsDefaults()
    with Database.open(pg_url) as db_a, Database.open(pg_url) as db_b:
        one, two = Chats(PgChatStore(db_a)), Chats(PgChatStore(db_b))
        one.put(new_chat_prefs(7, NOW, defaults), new_chat_prefs(8, NOW, defaults))
        assert set(two.all()) == {Target(7), Target(8)}  # chats started on the other process

        one.put(one.get(7).changed(NOW, items_per_digest=3))  # type: ignore[union-attr]
        assert two.get(7).items_per_digest == 3  # type: ignore[union-attr]
        two.deactivate(7, NOW)  # the other's change is not undone by this one
        assert one.get(7).items_per_digest == 3  # type: ignore[union-attr]
        assert not one.get(7).active  # type: ignore[union-attr]

        one.move(8, -1008, NOW)  # the group became a supergroup
        assert two.get(8) is None
        assert two.get(-1008) is not None
        assert set(two.all()) == {Target(7), Target(-1008)}


def test_an_embedded_chat_store_has_no_other_writer_to_follow(tmp_path: Path) -> None:
    """A data folder has one process (its lock): no change feed to read."""
    store = JournalChatStore.open(tmp_path / CHATS_DIR)
    store.write({"chats": {"1": {"n": 1}}})
    assert store.changes("chats", None) == (None, [])
    store.close()
