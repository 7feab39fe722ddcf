"""Smaller hostile findings: forged search buttons, the no-network message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.chat.services import SearchRefs
from bot.cli.run import redact

ROOT = Path(__file__).resolve().parents[2]


def test_a_search_reference_shows_its_query_only_to_the_chat_that_searched() -> None:
    """A forged “More” button with another chat's reference finds nothing."""
    refs = SearchRefs()
    mine = refs.add(1001, "private words")
    other = refs.add(1002, "other words")
    assert refs.get(1001, mine) == "private words"
    assert refs.get(1002, mine) is None
    assert refs.get(1001, other) is None


def test_search_references_cannot_be_guessed_from_each_other() -> None:
    """References are random (not 1, 2, 3…) and fit the button data (8 hex digits)."""
    refs = SearchRefs()
    made = [refs.add(1, f"query {n}") for n in range(50)]
    assert len(set(made)) == 50
    assert all(len(ref) == 8 and int(ref, 16) >= 0 for ref in made)
    assert made != sorted(made, key=lambda ref: int(ref, 16))


def test_redaction_leaves_text_alone_when_a_secret_is_empty() -> None:
    """No webhook secret: the text is not littered with [token] between its letters."""
    assert redact("http://api.test/bot", ["123:abc", ""]) == "http://api.test/bot"
    assert redact("url /bot123:abc/getMe", ["123:abc", ""]) == "url /bot[token]/getMe"


def test_run_without_the_network_says_what_to_check(tmp_path: Path) -> None:
    """`newsbot run` that cannot reach the Bot API exits 1 with a plain, token-free line."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "feeds.toml").write_text('[[feeds]]\nname = "A"\nurl = "https://a.test/f.xml"\n')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NEWSBOT_TOKEN": "123456:secret-token-part",
        "NEWSBOT_API_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "NEWSBOT_CONFIG": str(config),
        "NEWSBOT_DATA": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1
    assert last.startswith("newsbot: cannot reach the Bot API at http://127.0.0.1:9")
    assert "Check the network connection, and NEWSBOT_API_URL" in last
    assert "[token]h" not in done.stderr
    assert "secret-token-part" not in done.stderr


def test_a_data_folder_that_cannot_be_written_is_one_clear_line(tmp_path: Path) -> None:
    """A read-only data folder (here /proc/sys, read-only even for root): no traceback."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "feeds.toml").write_text('[[feeds]]\nname = "A"\nurl = "https://a.test/f.xml"\n')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NEWSBOT_TOKEN": "123456:secret-token-part",
        "NEWSBOT_API_URL": "http://127.0.0.1:9",
        "NEWSBOT_CONFIG": str(config),
        "NEWSBOT_DATA": "/proc/sys",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("newsbot: cannot write in the data directory /proc/sys")
    )
