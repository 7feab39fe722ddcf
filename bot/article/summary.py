"""An article's summary: its true lead sentences and its key quotes with speakers."""

from __future__ import annotations

import dataclasses

from bot.article.languages import detect_language
from bot.article.lead import select_lead
from bot.article.quotes import find_quotes
from bot.models import Article, Summary

# The summariser reads at most this much of the body: a lead and the key quotes come early,
# and a hostile page of megabytes must not cost the worker minutes.
MAX_SUMMARY_CHARS = 50_000


def summarize(article: Article, lead_sentences: int = 2) -> Summary:
    """The body's first ``lead_sentences`` true sentences and its key quotes, most important
    first, read from the first ``MAX_SUMMARY_CHARS`` of the body. The summary's article
    carries its language: the one it came with (declared by its page or feed) when the text
    bears it out, else the detected one."""
    text = summary_input(article.text)
    language = detect_language(text, declared=article.language)
    if language != article.language:
        article = dataclasses.replace(article, language=language)
    lead = tuple(
        select_lead(
            text,
            lead_sentences,
            title=article.title,
            language=language,
            description=article.description,
        )
    )
    return Summary(article=article, lead=lead, quotes=tuple(find_quotes(text, language=language)))


def summary_input(text: str, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    """The start of ``text`` the summariser reads: whole paragraphs up to ``max_chars``
    (a cut inside the first paragraph when that alone is longer)."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n\n", 0, max_chars)
    return text[: cut if cut > 0 else max_chars]
