"""The architecture holds: the article core loads nothing of the network, Telegram or storage,
and the import-linter contract in pyproject.toml is live (it fails on an upward import)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_article_core_loads_no_network_telegram_or_storage_module() -> None:
    """Importing every article module pulls in none of telegram, httpx, tinydb or sqlite3."""
    code = (
        "import json, sys, pkgutil, importlib, bot.article\n"
        "for m in pkgutil.iter_modules(bot.article.__path__):\n"
        "    importlib.import_module('bot.article.' + m.name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert "bot.article.extract" in loaded
    for forbidden in ("telegram", "httpx", "tinydb", "sqlite3", "apscheduler"):
        assert not [m for m in loaded if m == forbidden or m.startswith(forbidden + ".")]
    ours = {m for m in loaded if m.startswith("bot.")}
    assert ours <= {"bot.models", "bot.errors"} | {m for m in ours if m.startswith("bot.article")}


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_layer_contract_refuses_an_upward_import(tmp_path: Path) -> None:
    """The contract passes on the tree as it is, and fails, naming the import, when a module of
    the article core imports the chat layer."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kept = _lint(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    lead = tmp_path / "bot" / "article" / "lead.py"
    lead.write_text(lead.read_text(encoding="utf-8") + "\nimport bot.chat.app\n", "utf-8")
    broken = _lint(tmp_path)
    assert broken.returncode == 1
    assert "bot.article.lead -> bot.chat.app" in broken.stdout
