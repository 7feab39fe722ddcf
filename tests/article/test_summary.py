"""summarize: the public entry point that gives an article's lead and key quotes."""

from __future__ import annotations

import dataclasses

import pytest

from bot.article.summary import summarize
from bot.models import Article

TEXT = (
    "Bridge reopens after repairs\n\n"
    "LONDON (Reuters) - The old river bridge reopened on Friday after two years of repairs"
    " costing 3.5 million pounds. Traffic was light.\n\n"
    "“We are proud of the crews who rebuilt it in record time,” Mayor Ana Lopez said."
)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_summary_lead_has_the_asked_number_of_true_sentences(count: int) -> None:
    """The lead skips the repeated headline and the dateline and keeps text order."""
    article = Article(text=TEXT, title="Bridge reopens after repairs")
    lead = summarize(article, lead_sentences=count).lead
    expected = (
        "The old river bridge reopened on Friday after two years of repairs costing 3.5"
        " million pounds.",
        "Traffic was light.",
        "“We are proud of the crews who rebuilt it in record time,” Mayor Ana Lopez said.",
    )
    assert lead == expected[:count]


def test_summary_keeps_the_article_and_finds_its_quotes() -> None:
    """The summary carries the article it summarises, with its language, and the quotes
    found in its body."""
    article = Article(text=TEXT)
    summary = summarize(article)
    assert summary.article == dataclasses.replace(article, language="en")
    assert any(q.text.startswith("We are proud of the crews") for q in summary.quotes)
