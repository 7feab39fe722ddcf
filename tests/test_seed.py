"""The seed article gives everything ../shared/seed/expected.json lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import read_article
from bot.models import Article


@pytest.fixture(scope="module")
def expected(seed_dir: Path) -> dict[str, Any]:
    """The expected fields of the seed article."""
    data: dict[str, Any] = json.loads((seed_dir / "expected.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def seed_article(seed_dir: Path, expected: dict[str, Any]) -> Article:
    """The seed read the way `newsbot extract FILE` reads it."""
    return read_article(str(seed_dir / expected["input"]))


def test_seed_title_and_date(seed_article: Article, expected: dict[str, Any]) -> None:
    """The title line becomes the title and the 'Published ...' line the date."""
    assert seed_article.title == expected["title"]
    assert seed_article.published is not None
    assert seed_article.published.isoformat() == expected["published"]


def test_seed_text_is_clean(seed_article: Article, expected: dict[str, Any]) -> None:
    """The body keeps the article and loses captions, the print credit and the sidebar."""
    for phrase in expected["text_must_contain"]:
        assert phrase in seed_article.text
    for phrase in expected["text_must_not_contain"]:
        assert phrase not in seed_article.text
    assert expected["title"] not in seed_article.text
    assert "Published January" not in seed_article.text
    assert seed_article.text.startswith("KABUL: The Taliban’s foreign minister")
    assert seed_article.text.endswith("does not appear to have made any physical attacks.")
