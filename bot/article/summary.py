"""An article's summary: its true lead sentences and its key quotes with speakers."""

from __future__ import annotations

from bot.article.lead import select_lead
from bot.article.quotes import find_quotes
from bot.models import Article, Summary


def summarize(article: Article, lead_sentences: int = 2) -> Summary:
    """The body's first ``lead_sentences`` true sentences and its key quotes, most important
    first."""
    lead = tuple(select_lead(article.text, lead_sentences, title=article.title))
    return Summary(article=article, lead=lead, quotes=tuple(find_quotes(article.text)))
