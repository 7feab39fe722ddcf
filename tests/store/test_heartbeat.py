"""The heartbeat judgement behind ``newsbot health`` and ``GET /healthz``: healthy only while
every part of the running bot beat within the bound its settings give."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.heartbeat import FILE_NAME, Heartbeat, judge, read_and_judge, stale_after_s

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TICK_S = 1.0


def beaten(tmp_path: Path, parts: tuple[str, ...] = ("poll", "sender")) -> Heartbeat:
    heart = Heartbeat(tmp_path, TICK_S, lambda: T0, parts)
    for part in parts:
        heart.beat(part)
    return heart


def test_fresh_beats_are_healthy(tmp_path: Path) -> None:
    beaten(tmp_path)
    healthy, line = read_and_judge(tmp_path, T0 + timedelta(seconds=1))
    assert healthy
    assert line == "healthy: poll 1.0s ago, sender 1.0s ago"


@pytest.mark.parametrize("part", ["poll", "sender"])
def test_a_part_that_stopped_beating_is_named(tmp_path: Path, part: str) -> None:
    """One loop stuck while the other runs: unhealthy, and the line says which."""
    heart = beaten(tmp_path)
    later = T0 + timedelta(seconds=stale_after_s(TICK_S) + 1)
    heart.clock = lambda: later
    heart.beat("sender" if part == "poll" else "poll")
    healthy, line = read_and_judge(tmp_path, later)
    assert not healthy
    assert line.startswith(f"unhealthy: {part} stale (")
    assert ("poll stale" in line) + ("sender stale" in line) == 1


def test_the_bound_is_inclusive_up_to_its_edge(tmp_path: Path) -> None:
    beaten(tmp_path)
    bound = stale_after_s(TICK_S)
    assert read_and_judge(tmp_path, T0 + timedelta(seconds=bound))[0]
    assert not read_and_judge(tmp_path, T0 + timedelta(seconds=bound + 0.1))[0]


def test_a_part_that_never_beat_is_unhealthy(tmp_path: Path) -> None:
    Heartbeat(tmp_path, TICK_S, lambda: T0).beat("sender")
    assert read_and_judge(tmp_path, T0) == (False, "unhealthy: poll never beat")


def test_a_bot_without_feed_polling_is_judged_on_its_sender(tmp_path: Path) -> None:
    beaten(tmp_path, ("sender",))
    assert read_and_judge(tmp_path, T0)[0]


def test_no_bot_has_run(tmp_path: Path) -> None:
    healthy, line = read_and_judge(tmp_path, T0)
    assert not healthy
    assert "no bot has run with this data folder" in line


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"beats": 3}',
        '{"beats": {"poll": "x"}}',
        '{"beats": {}, "stale_after_s": "x"}',
    ],
)
def test_a_damaged_heartbeat_file_is_unhealthy_not_a_crash(tmp_path: Path, text: str) -> None:
    (tmp_path / FILE_NAME).write_text(text, encoding="utf-8")
    healthy, line = read_and_judge(tmp_path, T0)
    assert not healthy
    assert line.startswith("unhealthy: ")


def test_the_file_is_replaced_whole(tmp_path: Path) -> None:
    """Written atomically: no temporary file is left beside it, and it is always JSON."""
    beaten(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]
    assert set(json.loads((tmp_path / FILE_NAME).read_text())["beats"]) == {"poll", "sender"}


def test_judge_refuses_foreign_documents() -> None:
    assert judge(["poll"], T0) == (False, "unhealthy: the heartbeat file is not newsbot's")


def test_a_bot_that_stopped_cleanly_is_unhealthy_at_once(tmp_path: Path) -> None:
    beaten(tmp_path).stopped()
    healthy, line = read_and_judge(tmp_path, T0)
    assert not healthy
    assert line == f"unhealthy: the bot stopped at {T0.isoformat()}"
