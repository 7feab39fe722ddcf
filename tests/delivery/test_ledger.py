"""The delivery ledger: intents and confirmations survive reopening, torn journals and
compaction; no article is planned twice to a chat."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.ledger import LEDGER_DIR, Ledger, Outgoing
from bot.delivery.target import Target
from bot.errors import StoreError
from tests.delivery.conftest import NOW, LedgerOpener


def _out(chat: int, n: int, *articles: str, kind: str = "digest") -> Outgoing:
    ids = articles or (f"a{chat}.{n}",)
    return Outgoing(f"{kind}:{chat}:b:{n}", chat, f"<b>item</b> {n}", ids, kind)


def _journal(tmp_path: Path) -> Path:
    (journal,) = (tmp_path / LEDGER_DIR).glob("journal-*.jsonl")
    return journal


def test_planned_messages_stay_pending_until_confirmed_across_reopening(
    open_ledger: LedgerOpener,
) -> None:
    """A planned message is pending after a restart; once confirmed it is not."""
    with open_ledger() as ledger:
        ledger.plan([_out(1, 0), _out(1, 1), _out(2, 0)], now=NOW)
        ledger.confirm("digest:1:b:0", message_id=10, now=NOW)
    with open_ledger() as ledger:
        assert [m.key for m in ledger.pending()] == ["digest:1:b:1", "digest:2:b:0"]
        assert ledger.delivered_ids(1) == {"a1.0", "a1.1"}
        assert ledger.last_digest_at(1) == NOW
        assert ledger.stats(NOW.date()).digests == 2
        assert ledger.stats(NOW.date()).messages == 1


@pytest.mark.parametrize("compact", [False, True])
def test_held_back_stories_and_a_messages_button_and_preview_survive_reopening(
    open_ledger: LedgerOpener, compact: bool
) -> None:
    """Where a chat's held-back stories begin, and a pending message's "Next" button and
    link preview, are the same after a restart (from the journal or the snapshot); a group
    that moved keeps its held-back stories."""
    held = NOW - timedelta(minutes=30)
    message = Outgoing("digest:1:b:0", 1, "<b>x</b>", ("a",), "digest",
                       buttons=(("Next 10 ›", "dg:next"),), preview_url="https://e.org/a",
                       preview_above=True)  # fmt: skip
    with open_ledger() as ledger:
        ledger.hold(1, held, now=NOW)
        ledger.hold(2, held, now=NOW)
        ledger.hold(2, None, now=NOW)
        ledger.hold(-5, held, now=NOW)
        ledger.move_chat(-5, -1005, now=NOW)
        ledger.plan([message], now=NOW)
        if compact:
            ledger.compact(now=NOW)
    with open_ledger() as ledger:
        assert ledger.held_since(1) == held
        assert ledger.held_since(2) is None
        assert ledger.held_since(-1005) == held
        assert ledger.pending() == [message]


def test_an_article_is_never_planned_twice_to_a_chat(open_ledger: LedgerOpener) -> None:
    """A message repeating an article delivered or planned to the chat is dropped; the same
    article to another chat is not."""
    with open_ledger() as ledger:
        assert ledger.plan([_out(1, 0, "x"), _out(1, 1, "x", "y"), _out(2, 0, "x")], now=NOW) == [
            _out(1, 0, "x"), _out(2, 0, "x"),
        ]  # fmt: skip
        ledger.confirm("digest:1:b:0", message_id=1, now=NOW)
        assert ledger.plan([_out(1, 5, "x")], now=NOW) == []
        assert ledger.plan([_out(2, 0, "x")], now=NOW) == []  # still pending: same key


def test_a_torn_last_line_is_ignored_and_the_ledger_opens(tmp_path: Path) -> None:
    """A crash mid-append leaves half a line: the records before it stand."""
    with Ledger.open(tmp_path, now=NOW) as ledger:
        ledger.plan([_out(1, 0), _out(1, 1)], now=NOW)
        ledger.confirm("digest:1:b:0", message_id=1, now=NOW)
    with _journal(tmp_path).open("ab") as file:
        file.write(b'{"op":"sent","key":"digest:1:b:1","mi')
    with Ledger.open(tmp_path, now=NOW) as ledger:
        assert [m.key for m in ledger.pending()] == ["digest:1:b:1"]
        ledger.confirm("digest:1:b:1", message_id=2, now=NOW)
    with Ledger.open(tmp_path, now=NOW) as ledger:
        assert ledger.pending() == []


def test_a_second_process_cannot_open_the_same_ledger(tmp_path: Path) -> None:
    """Two senders on one ledger would send twice: the second open is refused."""
    with Ledger.open(tmp_path, now=NOW), pytest.raises(StoreError, match="in use"):
        Ledger.open(tmp_path, now=NOW)


def test_a_damaged_snapshot_stops_the_open_with_a_clear_error(tmp_path: Path) -> None:
    """The ledger never starts afresh over a snapshot it cannot read."""
    Ledger.open(tmp_path, now=NOW).close()
    (tmp_path / LEDGER_DIR / "snapshot.json").write_text("{not json")
    with pytest.raises(StoreError, match="damaged"):
        Ledger.open(tmp_path, now=NOW)


def test_a_migrated_group_keeps_its_record_and_pending_messages(open_ledger: LedgerOpener) -> None:
    """move_chat carries delivered ids, the last digest time and pending messages over."""
    with open_ledger() as ledger:
        ledger.plan([_out(-5, 0), _out(-5, 1)], now=NOW)
        ledger.confirm("digest:-5:b:0", message_id=1, now=NOW)
        ledger.move_chat(-5, -1005, now=NOW)
    with open_ledger() as ledger:
        assert [m.chat_id for m in ledger.pending()] == [-1005]
        assert ledger.delivered_ids(-1005) == {"a-5.0", "a-5.1"}
        assert ledger.last_digest_at(-1005) == NOW
        assert ledger.delivered_ids(-5) == set()


def test_delivered_ids_are_forgotten_after_the_retention(open_ledger: LedgerOpener) -> None:
    """Ids older than the store's retention are pruned (their articles are gone too)."""
    with open_ledger(retention_days=30) as ledger:
        ledger.plan([_out(1, 0)], now=NOW - timedelta(days=31))
        ledger.plan([_out(1, 1)], now=NOW - timedelta(days=29))
    with open_ledger(retention_days=30) as ledger:
        assert ledger.delivered_ids(1) == {"a1.1"}


def test_an_empty_digest_still_counts_as_the_chats_last(open_ledger: LedgerOpener) -> None:
    """record_digest moves last_digest_at without sending anything."""
    with open_ledger() as ledger:
        ledger.record_digest(9, now=NOW)
    with open_ledger() as ledger:
        assert ledger.last_digest_at(9) == NOW
        assert ledger.pending() == []


def test_abandoning_a_chat_drops_all_its_pending_messages(open_ledger: LedgerOpener) -> None:
    """A blocked chat's messages are no longer pending, others' are."""
    with open_ledger() as ledger:
        ledger.plan([_out(1, 0), _out(1, 1), _out(2, 0)], now=NOW)
        assert ledger.abandon_chat(1, reason="forbidden", now=NOW) == ["digest:1:b:0",
                                                                       "digest:1:b:1"]  # fmt: skip
    with open_ledger() as ledger:
        assert [m.key for m in ledger.pending()] == ["digest:2:b:0"]
        assert ledger.stats(NOW.date()).abandoned == 2


_OPS = st.lists(
    st.tuples(st.sampled_from(["plan", "confirm", "move"]), st.integers(1, 3), st.integers(0, 3)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=_OPS, cut=st.floats(0, 1))
def test_a_journal_cut_anywhere_opens_as_some_prefix_of_its_records(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int]], cut: float
) -> None:
    """Whatever byte a crash stops the journal at, the reopened ledger is the state after some
    prefix of the operations: never a mix, never a lost confirmation before a kept one."""
    data = tmp_path_factory.mktemp("ledger")
    states = []

    def state(ledger: Ledger) -> tuple[object, ...]:
        return (
            tuple((m.key, m.chat_id) for m in ledger.pending()),
            tuple(sorted(ledger.delivered_ids(c)) for c in (1, 2, 3, 100)),
        )

    with Ledger.open(data, now=NOW) as ledger:
        states.append(state(ledger))
        for op, chat, n in ops:
            if op == "plan":
                ledger.plan([_out(chat, n)], now=NOW)
            elif op == "confirm":
                ledger.confirm(f"digest:{chat}:b:{n}", message_id=n, now=NOW)
            else:
                ledger.move_chat(chat, 100, now=NOW)
            states.append(state(ledger))
    journal = _journal(data)
    raw = journal.read_bytes()
    journal.write_bytes(raw[: int(len(raw) * cut)])
    with Ledger.open(data, now=NOW) as ledger:
        assert state(ledger) in states


def test_a_snapshot_of_the_older_one_line_format_is_read_and_rewritten(tmp_path: Path) -> None:
    """A ledger written before snapshots went one chat a line opens with everything it knew,
    and is the same after its first compaction in the new format."""
    folder = tmp_path / LEDGER_DIR
    folder.mkdir()
    day = NOW.date().isoformat()
    old = {
        "version": 1,
        "generation": 3,
        "pending": [{"key": "digest:7:b:0", "chat": 7, "text": "x", "articles": ["p"],
                     "kind": "digest"}],
        "chats": {"42": {"delivered": {day: ["a1", "a2"]}, "last_digest_at": NOW.isoformat()},
                  "-100/5": {"delivered": {day: ["a2"]}, "last_digest_at": None}},
        "days": {day: {"digests": 2, "messages": 1, "abandoned": 0, "errors": 0}},
    }  # fmt: skip
    (folder / "snapshot.json").write_text(json.dumps(old))
    (folder / "journal-000003.jsonl").write_bytes(b"")
    for _ in range(2):
        with Ledger.open(tmp_path, now=NOW) as ledger:
            assert ledger.delivered_ids(42) == {"a1", "a2"}
            assert ledger.delivered_ids(Target(-100, 5)) == {"a2"}
            assert ledger.last_digest_at(42) == NOW
            assert [m.key for m in ledger.pending()] == ["digest:7:b:0"]
            assert ledger.stats(NOW.date()).digests == 2
            assert ledger.plan([_out(42, 1, "a1")], now=NOW) == []
    lines = (folder / "snapshot.json").read_text().splitlines()
    assert json.loads(lines[0])["version"] == 2
    assert len(lines) > 1
