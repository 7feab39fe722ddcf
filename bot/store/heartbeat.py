"""The running bot's heartbeat: ``<data>/health.json``, rewritten (atomically) at each poll
tick and each sender turn, and the judgement ``newsbot health`` and ``GET /healthz`` make of it.

The file holds when each part last beat and the age past which it counts as stale (derived
from the running bot's ``[bot] digest_tick_s``, so ``newsbot health`` needs no settings).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.store.atomic import write_atomically

FILE_NAME = "health.json"
PARTS = ("poll", "sender")  # the poll loop and the sender
STALE_TICKS = 5  # a part is stale after this many missed ticks ...
STALE_GRACE_S = 2.0  # ... plus this (a slow disk, a busy event loop)


def stale_after_s(tick_s: float) -> float:
    """The age past which a heartbeat is stale, for a bot ticking every ``tick_s``."""
    return STALE_TICKS * tick_s + STALE_GRACE_S


class Heartbeat:
    """What the running process writes: ``beat(part)`` at each turn of that part's loop."""

    def __init__(
        self,
        data_dir: Path,
        tick_s: float,
        clock: Callable[[], datetime],
        parts: tuple[str, ...] = PARTS,
    ) -> None:
        self.path = data_dir / FILE_NAME
        self.clock = clock
        self.doc: dict[str, object] = {
            "pid": os.getpid(),
            "parts": list(parts),
            "stale_after_s": stale_after_s(tick_s),
            "beats": {},
        }

    def beat(self, part: str) -> None:
        beats = self.doc["beats"]
        assert isinstance(beats, dict)
        beats[part] = self.clock().isoformat()
        self._write()

    def stopped(self) -> None:
        """The bot stopped cleanly: health says so at once rather than once the beats age."""
        self.doc["stopped"] = self.clock().isoformat()
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)  # on PostgreSQL: only this file
        write_atomically(self.path, json.dumps(self.doc).encode())


def judge(doc: object, now: datetime) -> tuple[bool, str]:
    """(healthy, one line): every part beat within the bound, or which ones are stale."""
    if not isinstance(doc, dict) or not isinstance(doc.get("beats"), dict):
        return False, "unhealthy: the heartbeat file is not newsbot's"
    if isinstance(doc.get("stopped"), str):
        return False, f"unhealthy: the bot stopped at {doc['stopped']}"
    bound_s = doc.get("stale_after_s")
    if not isinstance(bound_s, int | float):
        return False, "unhealthy: the heartbeat file names no bound"
    stale: list[str] = []
    ages: list[str] = []
    parts = doc.get("parts", PARTS)
    for part in parts if isinstance(parts, list) else PARTS:
        when = doc["beats"].get(part)
        if not isinstance(when, str):
            stale.append(f"{part} never beat")
            continue
        try:
            age_s = (now - datetime.fromisoformat(when)).total_seconds()
        except (ValueError, TypeError):
            stale.append(f"{part} beat unreadable")
            continue
        ages.append(f"{part} {age_s:.1f}s ago")
        if age_s > bound_s:
            stale.append(f"{part} stale ({age_s:.1f}s > {bound_s:.1f}s)")
    if stale:
        return False, "unhealthy: " + ", ".join(stale)
    return True, "healthy: " + ", ".join(ages)


def read_and_judge(data_dir: Path, now: datetime) -> tuple[bool, str]:
    """Judge ``<data_dir>/health.json``; no file: no bot has run with this data folder."""
    path = data_dir / FILE_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, f"unhealthy: no heartbeat in {path} (no bot has run with this data folder)"
    except (OSError, ValueError) as exc:
        return False, f"unhealthy: cannot read {path} ({exc})"
    return judge(doc, now)
