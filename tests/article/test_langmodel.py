"""The language model's decompressed copy: same answers as py3langid, rebuilt when damaged,
and optional when the cache folder cannot be written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import py3langid
import pytest

from bot.article.langmodel import cache_dir, load_classifier

DATA = Path(__file__).resolve().parents[1] / "data" / "multilingual"
ARTICLES = [
    json.loads(line)["text"][:600]
    for path in sorted(DATA.glob("*.jsonl"))
    for line in path.open(encoding="utf-8")
    if line.strip()
]
TEXTS = [*ARTICLES[::7], "Breaking news", "", "12 345 678", "Das ist ein Satz."]


def _answers(classify: Callable[[str], tuple[str, float]]) -> list[str]:
    return [classify(text)[0] for text in TEXTS]


@pytest.fixture(scope="module")
def stock_answers() -> list[str]:
    return [py3langid.classify(text)[0] for text in TEXTS]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the copy, made by a first load."""
    cache = tmp_path_factory.mktemp("cache")
    load_classifier(cache)
    return cache


def _copy(cache: Path) -> Path:
    (copy,) = cache.iterdir()
    return copy


def test_the_copy_answers_as_py3langid_does(built: Path, stock_answers: list[str]) -> None:
    """A process reading the decompressed copy names every language py3langid names."""
    assert _copy(built).name.startswith("langid-")
    assert _answers(load_classifier(built)) == stock_answers


@pytest.mark.parametrize("damage", ["flipped", "truncated", "missing", "bad manifest"])
def test_a_damaged_copy_is_rebuilt(
    tmp_path: Path, built: Path, stock_answers: list[str], damage: str
) -> None:
    """A copy damaged on disk is never used: it is rebuilt, and the answers stay right."""
    cache = tmp_path / "cache"
    copy = cache / _copy(built).name
    shutil.copytree(_copy(built), copy)
    good = {path.name: path.read_bytes() for path in copy.iterdir()}
    target = copy / "nextmove.npy"
    if damage == "flipped":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:1000])
    elif damage == "missing":
        target.unlink()
    else:
        (copy / "manifest.json").write_text("{not json", encoding="utf-8")
    assert _answers(load_classifier(cache)) == stock_answers
    assert {path.name: path.read_bytes() for path in copy.iterdir()} == good


def test_an_unwritable_cache_folder_still_gives_answers(
    tmp_path: Path, stock_answers: list[str]
) -> None:
    """Where the cache folder cannot be made (here a file is in its way), the model loads
    the slow way and nothing is written."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file", encoding="utf-8")
    assert _answers(load_classifier(blocker / "newsbot")) == stock_answers
    assert sorted(tmp_path.iterdir()) == [blocker]


def test_the_cache_folder_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NEWSBOT_CACHE_DIR wins, then XDG_CACHE_HOME, then ~/.cache."""
    monkeypatch.setenv("NEWSBOT_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("NEWSBOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "newsbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "newsbot"
