"""The README documents every settings key the shipped settings.toml has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shipped_keys() -> dict[str, list[str]]:
    """Keys per table in config/settings.toml, including those shipped commented out."""
    keys: dict[str, list[str]] = {}
    table = ""
    for line in (ROOT / "config" / "settings.toml").read_text(encoding="utf-8").splitlines():
        if header := re.fullmatch(r"\[([a-z_]+)\]", line.strip()):
            table = header[1]
            keys[table] = []
        elif key := re.match(r"(?:# )?([a-z_]+) = ", line):
            keys[table].append(key[1])
    return keys


def test_readme_names_every_settings_key() -> None:
    """An admin reading the README's settings table finds every key settings.toml accepts."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    tables = shipped_keys()
    assert set(tables) == {"poll", "http", "store", "summary", "bot", "metrics"}
    for table, keys in tables.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `[{table}]`"))
        for key in keys:
            assert f"`{key}`" in row, f"[{table}] {key} is missing from the README"


_ENV_NAME = re.compile(r"\bNEWSBOT_[A-Z_]*[A-Z]\b")


def test_readme_help_and_settings_agree_on_every_environment_variable() -> None:
    """Every NEWSBOT_* variable the code reads is in the README's Environment paragraph,
    in ``newsbot --help`` and at the top of config/settings.toml, and nothing else is."""
    from bot.cli.main import ENVIRONMENT, _build_parser

    in_code = {
        name
        for path in (ROOT / "bot").rglob("*.py")
        for name in _ENV_NAME.findall(path.read_text())
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (paragraph,) = [p for p in readme.split("\n\n") if p.startswith("Environment")]
    header = (ROOT / "config" / "settings.toml").read_text(encoding="utf-8").split("\n[")[0]
    shown = _build_parser().format_help()
    assert {name for name, _ in ENVIRONMENT} == in_code
    assert set(_ENV_NAME.findall(paragraph)) == in_code
    assert set(_ENV_NAME.findall(header)) == in_code
    assert set(_ENV_NAME.findall(shown)) == in_code
