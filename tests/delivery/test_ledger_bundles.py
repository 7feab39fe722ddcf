"""A story folded from many feeds, sent to many chats: the ledger remembers every article of it
for every chat (nothing sent again, across restarts, compaction, migration and retention)
while holding the articles once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery.ledger import BUNDLE_MIN_ARTICLES, LEDGER_DIR, Ledger, Outgoing
from bot.delivery.target import Target
from tests.delivery.conftest import NOW, LedgerOpener

STORY = tuple(f"story-{n}" for n in range(BUNDLE_MIN_ARTICLES + 8))


def _digest(chat: int | Target, batch: str, *articles: str) -> Outgoing:
    target = chat if isinstance(chat, Target) else Target(chat)
    return Outgoing(f"digest:{target.key}:{batch}:0", target.chat_id, "<b>story</b>", articles,
                    "digest", target.thread_id)  # fmt: skip


@pytest.mark.parametrize("compact", [False, True])
def test_a_story_folded_from_many_feeds_is_never_sent_again_to_any_chat(
    open_ledger: LedgerOpener, compact: bool
) -> None:
    """Every chat given the big story has each of its articles delivered, after a restart
    (from the journal or the snapshot) too: a message repeating any of them is dropped;
    a chat not given the story still gets it."""
    targets = [Target(1), Target(2), Target(-100, 7)]
    with open_ledger() as ledger:
        planned = ledger.plan([_digest(t, "b", *STORY) for t in targets], now=NOW)
        assert len(planned) == 3
        ledger.confirm(planned[0].key, message_id=1, now=NOW)
        if compact:
            ledger.compact(now=NOW)
    with open_ledger() as ledger:
        for target in targets:
            assert ledger.delivered_ids(target) == set(STORY)
        again = [_digest(t, "c", STORY[-1], "fresh") for t in targets]
        fresh = _digest(3, "c", STORY[-1])
        assert ledger.plan([*again, fresh], now=NOW) == [fresh]
        assert [m.key for m in ledger.pending()] == [m.key for m in planned[1:]] + ["digest:3:c:0"]


def test_a_migrated_group_keeps_the_big_story_and_the_retention_forgets_it(
    open_ledger: LedgerOpener,
) -> None:
    """A group that became a supergroup keeps the story as delivered; a story older than the
    retention is forgotten like any other articles, a newer one is kept."""
    old = tuple(f"old-{n}" for n in range(BUNDLE_MIN_ARTICLES))
    with open_ledger(retention_days=30) as ledger:
        ledger.plan([_digest(-5, "a", *old), _digest(6, "a", *old)], now=NOW - timedelta(days=31))
        ledger.plan([_digest(-5, "b", *STORY), _digest(6, "b", *STORY)], now=NOW)
        ledger.move_chat(-5, -1005, now=NOW)
    with open_ledger(retention_days=30) as ledger:
        assert ledger.delivered_ids(-1005) == set(STORY)
        assert ledger.delivered_ids(6) == set(STORY)
        assert ledger.delivered_ids(-5) == set()


def test_chats_given_the_same_story_share_one_record_of_it(tmp_path: Path) -> None:
    """A thousand chats given the same big story: the snapshot holds its articles once, and
    after reopening the chats share one array of them (memory flat in the number of chats)."""
    chats = range(1, 1001)
    with Ledger.open(tmp_path, now=NOW) as ledger:
        ledger.plan([_digest(c, "b", *STORY) for c in chats], now=NOW)
        ledger.compact(now=NOW)
    snapshot = (tmp_path / LEDGER_DIR / "snapshot.json").read_text()
    assert snapshot.count(STORY[0]) == 1 + 1000  # the ids line, and each pending message
    with Ledger.open(tmp_path, now=NOW) as ledger:
        for c in chats:
            ledger.confirm(f"digest:{c}:b:0", message_id=c, now=NOW, durable=False)
        ledger.compact(now=NOW)
        assert ledger.delivered_ids(1000) == set(STORY)
    with Ledger.open(tmp_path, now=NOW) as ledger:
        bundles = {id(ledger._chats[Target(c)].delivered.bundles[0]) for c in chats}
        assert len(bundles) == 1
        assert ledger.delivered_ids(500) == set(STORY)
    assert (tmp_path / LEDGER_DIR / "snapshot.json").stat().st_size < 200 * 1000
