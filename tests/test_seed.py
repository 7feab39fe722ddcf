"""The seed article gives everything its expected.json lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.extract import parse_text
from bot.models import Summary
from bot.summary import summarize


@pytest.fixture(scope="module")
def expected(seed_dir: Path) -> dict[str, Any]:
    """The seed's expected.json."""
    data: dict[str, Any] = json.loads((seed_dir / "expected.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def seed_summary(seed_dir: Path, expected: dict[str, Any]) -> Summary:
    """The seed article summarised as `newsbot summarize` does it."""
    text = (seed_dir / expected["input"]).read_text("utf-8")
    return summarize(parse_text(text))


def test_seed_lead(seed_summary: Summary, expected: dict[str, Any]) -> None:
    """The lead opens with the article's first sentence, without dateline or caption."""
    assert seed_summary.lead
    assert seed_summary.lead[0].startswith(expected["lead_first_sentence_starts_with"])
    for unwanted in expected["lead_must_not_contain"]:
        assert all(unwanted not in sentence for sentence in seed_summary.lead), unwanted


def test_seed_quotes(seed_summary: Summary, expected: dict[str, Any]) -> None:
    """The seed's key quotes are found with their speakers, first quote first, no epithets."""
    quotes = seed_summary.quotes
    for wanted in expected["quotes_must_include"]:
        match = [q for q in quotes if q.text.startswith(wanted["text_starts_with"])]
        assert match, wanted["text_starts_with"]
        assert match[0].speaker == wanted["speaker_is"]
    assert quotes[0].text.startswith(expected["first_quote_starts_with"])
    for unwanted in expected["quotes_must_not_include"]:
        assert all(unwanted not in q.text for q in quotes), unwanted
