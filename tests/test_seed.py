"""The seed article gives everything ../shared/seed/expected.json lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import read_article
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


@pytest.fixture(scope="module")
def summarized(seed_dir: Path, expected: dict[str, Any]) -> dict[str, Any]:
    """The seed through `newsbot summarize --format jsonl`, as a reader of its output sees it."""
    import contextlib
    import io

    from bot.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["summarize", "--format", "jsonl", str(seed_dir / expected["input"])])
    assert code == 0
    record: dict[str, Any] = json.loads(out.getvalue())
    return record


def test_seed_summary_has_every_expected_field(
    summarized: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Title, date and clean text come through the command's JSON output unchanged."""
    assert summarized["title"] == expected["title"]
    assert summarized["published"] == expected["published"]
    for phrase in expected["text_must_contain"]:
        assert phrase in summarized["text"]
    for phrase in expected["text_must_not_contain"]:
        assert phrase not in summarized["text"]


def test_seed_lead_is_the_first_sentence_without_dateline_or_caption(
    summarized: dict[str, Any], expected: dict[str, Any]
) -> None:
    """The lead opens with the article's true first sentence, without 'KABUL:' or a caption."""
    lead = summarized["lead"]
    assert len(lead) == 2
    assert lead[0].startswith(expected["lead_first_sentence_starts_with"])
    for phrase in expected["lead_must_not_contain"]:
        assert all(phrase not in sentence for sentence in lead)


def test_seed_quotes_are_the_key_statements_with_their_speaker(
    summarized: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Both of Muttaqi's statements are found, attributed by full name, first one first;
    epithets and scare quotes are not quotes."""
    quotes = summarized["quotes"]
    assert quotes[0]["text"].startswith(expected["first_quote_starts_with"])
    for want in expected["quotes_must_include"]:
        found = [q for q in quotes if q["text"].startswith(want["text_starts_with"])]
        assert len(found) == 1, want["text_starts_with"]
        assert found[0]["speaker"] == want["speaker_is"]
    for phrase in expected["quotes_must_not_include"]:
        assert all(phrase not in q["text"] for q in quotes)
