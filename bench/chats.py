"""Chat-change benchmark: what one chat's change (a /settings tap, /start, an alert) costs
with 1 000 chats and with 100 000.

    python -m bench.chats [--small 1000] [--large 100000] [--changes 200]

For each size, a fresh data folder gets that many chats (``Chats.put``, one write), is
reopened, then ``--changes`` single-chat changes are timed, each durable when it returns
(fsync'd), alternating a settings change and an alert added:

- ours: the chat store (bot.store.chatstore: one journal line per change, compaction when the
  journal outgrows the records);
- baseline: the design it replaced, every change rewriting one TinyDB file of every chat
  (bot.store.storage's atomic fsync'd replace, as ``state.json`` was).

Prints the median and mean (compactions included) milliseconds per change for each size and
backend, and large/small ratios (wanted <= 1.5 for ours; timing is not judged here, so a
busy machine cannot fail the smoke run). Any ``ChatStore`` can be measured
the same way (``measure(open_store, chats, changes)``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery.chats import Chats
from bot.delivery.prefs import PrefsDefaults, new_chat_prefs
from bot.store.chatstore import (
    CHATS_DIR,
    Changed,
    Changes,
    ChatStore,
    JournalChatStore,
    check_changes,
)
from bot.store.storage import DirectoryVolume, open_database

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

OpenStore = Callable[[Path], ChatStore]


class StateFileChats:
    """The baseline: every chat in one TinyDB file, rewritten whole (atomically, fsync'd) by
    every change, as ``state.json`` was."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._db = open_database(DirectoryVolume(folder), "state.json", stamp=True)

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        doc = self._db.keyed(table).get_key(key)
        return None if doc is None else dict(doc)

    def items(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, doc in self._db.keyed(table).keyed():
            yield key, dict(doc)

    def write(self, changes: Changes) -> None:
        check_changes(changes)
        for table, records in changes.items():
            keyed = self._db.keyed(table)
            keyed.drop_keys(records)
            keyed.put({k: v for k, v in records.items() if v is not None})
        self._db.flush()

    def changes(self, table: str, since: int | None) -> tuple[int | None, Changed]:
        return None, []

    def close(self) -> None:
        self._db.flush()


BACKENDS: Mapping[str, OpenStore] = {
    "ours": lambda folder: JournalChatStore.open(folder / CHATS_DIR),
    "baseline": StateFileChats,
}


def measure(open_store: OpenStore, chats: int, changes: int) -> list[float]:
    """Seconds each of ``changes`` single-chat changes took in a store of ``chats`` chats."""
    defaults = PrefsDefaults()
    subscribed = NOW - timedelta(days=3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = open_store(folder)
        Chats(store).put(*(new_chat_prefs(n, subscribed, defaults) for n in range(1, chats + 1)))
        store.close()
        store = open_store(folder)
        bot_chats = Chats(store)
        times = []
        for n in range(changes):
            chat_id = 1 + (n * 7919) % chats
            started = time.perf_counter()
            if n % 2:
                bot_chats.add_alert(chat_id, f"flood relief {n}", NOW)
            else:
                prefs = bot_chats.get(chat_id)
                assert prefs is not None
                bot_chats.put(prefs.changed(NOW, items_per_digest=1 + n % 50))
            times.append(time.perf_counter() - started)
        store.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--baseline-changes", type=int, default=20)
    args = parser.parse_args()
    for name, open_store in BACKENDS.items():
        changes = args.changes if name == "ours" else args.baseline_changes
        result = {}
        for chats in (args.small, args.large):
            times = measure(open_store, chats, changes)
            result[chats] = (statistics.median(times), statistics.fmean(times))
            print(
                f"{name:<8} chats={chats:<7} changes={changes} "
                f"median={result[chats][0] * 1000:.2f} ms mean={result[chats][1] * 1000:.2f} ms",
                flush=True,
            )
        median_ratio = result[args.large][0] / result[args.small][0]
        mean_ratio = result[args.large][1] / result[args.small][1]
        wanted = " (wanted <= 1.5)" if name == "ours" else ""
        print(f"{name:<8} {args.large}/{args.small} chats: median ratio {median_ratio:.2f}, "
              f"mean ratio {mean_ratio:.2f}{wanted}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
