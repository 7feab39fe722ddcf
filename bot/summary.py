"""An article's summary: its true lead sentences and its key quotes with speakers."""

from __future__ import annotations

from bot.models import Article, Summary
from bot.quotes import find_quotes
from bot.sentences import split_sentences


def summarize(article: Article, lead_sentences: int = 2) -> Summary:
    """The body's first ``lead_sentences`` sentences and its key quotes, most important first."""
    lead = tuple(split_sentences(article.text)[: max(lead_sentences, 0)])
    return Summary(article=article, lead=lead, quotes=tuple(find_quotes(article.text)))
