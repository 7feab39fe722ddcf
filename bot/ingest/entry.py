"""A feed entry becomes a stored article: read its page (or the feed's own text), summarise.

Pure functions only. ``read_entry`` is the CPU-bound part (trafilatura, then our cleaning and
summary); the poll shell runs it in a worker process (bot.ingest.reading, bot.ingest.workers), so it
takes and returns plain picklable values. ``build_article`` puts the entry, what was read
and the feed's configuration together into the :class:`~bot.models.StoredArticle` the archive keeps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime

from bot.article.clean import clean_inline, clean_paragraphs, clean_title
from bot.article.summary import summarize
from bot.errors import InputError
from bot.ingest.feeds import parse_feed
from bot.models import Article, FeedEntry, ParsedFeed, StoredArticle, Summary

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_DROPPED_ELEMENTS = re.compile(
    r"<(script|style|noscript|template|figcaption|iframe|svg)\b.*?</\1\s*>", re.I | re.S
)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.I)
_BLOCK_EDGE = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|section|article|figure|header|footer|"
    r"dd|dt|dl|hr)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True, slots=True)
class ReadSettings:
    """How an entry's text is chosen.

    A page whose cleaned text has fewer than ``min_page_chars`` characters (a paywall, a
    consent wall, a video page) gives way to the feed's own content when that is longer.
    """

    lead_sentences: int = 2
    min_page_chars: int = 400


@dataclass(frozen=True, slots=True)
class ReadJob:
    """What a worker needs to read one entry: the fetched page (None when the fetch failed,
    with ``page_problem`` saying why) and the entry's own HTML content or summary."""

    url: str | None
    title: str | None
    page: bytes | None
    page_content_type: str | None
    page_problem: str | None
    feed_html: str | None
    settings: ReadSettings
    language: str | None = None  # the feed's declared language, checked like a page's


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The summary of an entry, where its text came from (``page``, ``feed`` or ``none``)
    and, when the page was not used, why."""

    summary: Summary
    source: str
    page_problem: str | None = None
    timed_out: bool = False  # the page's read ran past the job limit (retried once, later)


def article_id(feed: str, identity: str) -> str:
    """The stable id of a feed entry's article (the same entry always gets the same id)."""
    digest = hashlib.sha256(f"{feed}\x00{identity}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def is_html(content_type: str | None, body: bytes) -> bool:
    """Whether a fetched page is HTML: by its Content-Type, else by its first bytes."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type:
        return media_type in _HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def read_entry(job: ReadJob) -> ReadResult:
    """Summarise an entry from its page, falling back to the feed's own text when the page
    failed, is not HTML, or holds too little text. Never raises for bad content."""
    settings = job.settings
    problem = job.page_problem
    page_article: Article | None = None
    if job.page is not None and problem is None:
        if not is_html(job.page_content_type, job.page):
            problem = f"the page is not HTML ({job.page_content_type or 'unknown type'})"
        else:
            try:
                from bot.article.extract import extract_html  # trafilatura: only workers need it

                page_article = extract_html(job.page, url=job.url)
            except InputError as exc:
                problem = f"no article in the page: {exc}"
    feed_article = article_from_feed_html(job.feed_html, title=job.title, url=job.url)
    if feed_article is not None and job.language:
        feed_article = dataclasses.replace(feed_article, language=job.language)
    if (
        page_article is not None
        and len(page_article.text) < settings.min_page_chars
        and feed_article is not None
        and len(feed_article.text) > len(page_article.text)
    ):
        problem = f"the page holds only {len(page_article.text)} characters of text"
        page_article = None
    if page_article is not None:
        if page_article.language is None and job.language:
            # a page that declares no language is taken to be in its feed's
            page_article = dataclasses.replace(page_article, language=job.language)
        if page_article.description is None and feed_article is not None:
            # the feed entry's summary is the page's own account of where the story starts
            summary_text = feed_article.paragraphs[0] if feed_article.paragraphs else None
            page_article = dataclasses.replace(page_article, description=summary_text)
        return ReadResult(summarize(page_article, settings.lead_sentences), "page")
    if feed_article is not None:
        return ReadResult(summarize(feed_article, settings.lead_sentences), "feed", problem)
    empty = Article(text="", title=job.title, url=job.url)
    return ReadResult(Summary(article=empty), "none", problem)


def article_from_feed_html(
    fragment: str | None, *, title: str | None = None, url: str | None = None
) -> Article | None:
    """The article a feed's own content or summary holds (HTML or plain text), else None."""
    paragraphs = html_to_paragraphs(fragment or "")
    paragraphs = clean_paragraphs(paragraphs, title=title)
    if not paragraphs:
        return None
    return Article(text="\n\n".join(paragraphs), title=title, url=url)


def html_to_paragraphs(fragment: str) -> list[str]:
    """The text of an HTML fragment, one string per block (paragraph, list item, heading)."""
    text = _COMMENT.sub(" ", fragment)
    text = _DROPPED_ELEMENTS.sub(" ", text)
    text = _LINE_BREAK.sub("\n", text)
    text = _BLOCK_EDGE.sub("\n\n", text)
    text = html.unescape(_TAG.sub("", text))
    blocks = re.split(r"\n\s*\n", text)
    paragraphs = []
    for block in blocks:
        lines = [clean_inline(line) for line in block.split("\n")]
        joined = " ".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return paragraphs


def parse_feed_job(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """``bot.ingest.feeds.parse_feed`` as a worker runs it (module-level, picklable)."""
    return parse_feed(body, url, content_type)


def build_article(
    entry: FeedEntry,
    read: ReadResult,
    *,
    feed: str,
    topic: str | None,
    tags: tuple[str, ...],
    fetched: datetime,
    previous: StoredArticle | None = None,
    feed_title: str | None = None,
) -> StoredArticle:
    """The stored article of an entry. ``previous`` is the stored version of an updated
    entry: its first fetch time stays, ``updated`` becomes ``fetched``. The title loses a site
    name joined to it that is the feed's title or the link's host (the source is shown beside
    it)."""
    article = read.summary.article
    entry_title = clean_title(entry.title, None, (feed_title, entry.link)) if entry.title else None
    title = entry_title or article.title or entry.link or "(untitled)"
    if entry.published is not None:
        published = entry.published
    elif previous is not None:
        published = previous.published
    else:
        published = fetched
    return StoredArticle(
        id=article_id(feed, entry.identity),
        feed=feed,
        title=title,
        link=entry.link or "",
        published=published,
        fetched=previous.fetched if previous is not None else fetched,
        text=article.text,
        lead=read.summary.lead,
        quotes=read.summary.quotes,
        author=entry.author or article.author,
        topic=topic,
        tags=tags,
        updated=fetched if previous is not None else None,
        language=article.language,
        image=article.image or (previous.image if previous is not None else None),
    )
