"""Main text of an article: from an HTML page (trafilatura, then our cleaning) or plain text."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document

from bot.article.boilerplate import byline_author
from bot.article.clean import clean_inline, clean_paragraphs, clean_title, published_from_lines
from bot.article.dates import parse_iso_date
from bot.article.scripts import language_code
from bot.errors import InputError
from bot.models import Article

MAX_PAGE_BYTES = 8_000_000
# trafilatura's quick mode skips checking its body against readability and jusText; a body
# shorter than most news stories (about 300 words) may be one it cut short: then the full check.
MIN_QUICK_BODY_CHARS = 1000
# The latest date htmldate may return: the article core reads no clock, so no "today".
_LATEST_DATE = date.max.isoformat()

# Elements that hold no article text on a news page, whatever the site.
_DROP_TAGS = ("figcaption", "aside")
# class/id words naming page furniture: captions, credits, related links, share bars, promos.
_FURNITURE_NAME = re.compile(
    r"(?:^|[\s_-])(?:caption|credits?|related|share|sharing|social|newsletter|promo|subscribe|"
    r"subscription|signup|recirc|recommended|trending|most-?popular|outbrain|taboola)(?:$|[\s_-])",
    re.I,
)
_FURNITURE_TAGS = etree.XPath("//figcaption | //aside | //p//span | //p//div")
# Every class and every id on the page, matched in Python: half the time of an EXSLT regex
# inside the XPath, which calls back into Python once per element.
_NAMES = (etree.XPath("//@class"), etree.XPath("//@id"))
# A furniture-named element holding this share of the page's text or more is a wrapper.
_MAX_FURNITURE_SHARE = 0.3
_PROSE_WORDS = 30


def extract_html(html: str | bytes, url: str | None = None) -> Article:
    """Extract an article's title, date, author and cleaned body from a page."""
    if len(html) > MAX_PAGE_BYTES:
        raise InputError(f"the page is larger than {MAX_PAGE_BYTES} bytes; not reading it")
    try:
        tree = trafilatura.load_html(html)
    except Exception as exc:  # lxml raises many kinds on hostile markup
        raise InputError(f"cannot parse the page: {exc}") from exc
    if tree is None:
        raise InputError("the page holds no HTML")
    try:
        meta = _page_metadata(tree, url)
        language = declared_language(tree)
        headings = _headings(tree) + _deck(tree, meta.description)
        pruned = _prune_furniture(tree)
        doc = trafilatura.bare_extraction(
            pruned, url=url, include_comments=False, include_tables=True, fast=True
        )
        if not isinstance(doc, Document) or len(doc.text or "") < MIN_QUICK_BODY_CHARS:
            doc = trafilatura.bare_extraction(
                pruned, url=url, include_comments=False, include_tables=True
            )
    except Exception as exc:  # trafilatura and lxml raise many kinds on hostile markup
        raise InputError(f"cannot extract the article from the page: {exc}") from exc
    if not isinstance(doc, Document) or not doc.text:
        raise InputError("no article text found in the page")
    source_names = (url or meta.url, meta.hostname)
    title = clean_title(meta.title, meta.sitename, source_names) or None if meta.title else None
    paragraphs = doc.text.split("\n")
    author = clean_inline(meta.author) if meta.author else byline_author(paragraphs[:6])
    text = "\n\n".join(
        clean_paragraphs(
            paragraphs,
            title=title,
            description=meta.description,
            author=author,
            headings=headings,
        )
    )
    if not text:
        raise InputError("no article text found in the page")
    return Article(
        text=text,
        title=title,
        published=parse_iso_date(meta.date) or published_from_lines(paragraphs),
        author=author,
        url=url,
        image=lead_image(meta.image, url),
        description=clean_inline(meta.description) if meta.description else None,
        language=language,
    )


MAX_IMAGE_URL_CHARS = 2048


def lead_image(image: str | None, url: str | None) -> str | None:
    """The page's lead image (og:image, twitter:image) as an absolute http(s) address, or
    None (missing, a data: or javascript: address, spaces, or absurdly long)."""
    if not image:
        return None
    absolute = urljoin(url or "", image.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if len(absolute) > MAX_IMAGE_URL_CHARS or any(c.isspace() for c in absolute):
        return None
    return absolute


_LANGUAGE_META = (
    "//head/meta[@property='og:locale']/@content"
    " | //head/meta[translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')='content-language']"
    "/@content"
)


def declared_language(tree: Any) -> str | None:
    """The language the page declares (``<html lang>``, else og:locale, else
    Content-Language), as an ISO 639-1 code; ``summarize`` takes it when the text bears it
    out."""
    root = tree.getroottree().getroot()
    code = language_code(root.get("lang") or root.get("xml:lang"))
    if code:
        return code
    for content in tree.xpath(_LANGUAGE_META):
        code = language_code(str(content))
        if code:
            return code
    return None


# A title is a headline: short, and without the final mark that ends a sentence.
MAX_TITLE_WORDS = 30
_FINAL_MARK = re.compile(r"[.。۔।॥؟！？][\s\"'”’)\]»]*$")


def _page_metadata(tree: Any, url: str | None) -> Document:
    """Title, site name, description, author and date from the page's meta tags, JSON-LD,
    <title> and htmldate's quick search: trafilatura's metadata pass without its costly parts
    (an author search over the whole page, categories, tags, licence). The author, when no
    meta tag names one, is the byline above the story (``byline_author``)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a user name ('jdoe'), not a person's name
    with suppress(Exception):  # trafilatura's JSON-LD reader trips on odd JSON
        meta = extract_meta_json(tree, meta)
    meta.author = meta.author or _author_meta(tree)
    meta.title = meta.title or extract_title(tree)
    meta.sitename = meta.sitename or extract_sitename(tree)
    # the publication date the page declares for search engines, else htmldate's quick search
    # for the original (not the last-modified) date in its markup
    meta.date = _declared_date(tree) or find_date(
        tree, url=url, original_date=True, extensive_search=False, max_date=_LATEST_DATE
    )
    return meta


_DATE_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_PUBLISHED_META = "//meta[@property='article:published_time' or @itemprop='datePublished']/@content"


def _declared_date(tree: Any) -> str | None:
    """A news page's declared publication date: schema.org ``datePublished`` in its JSON-LD, or
    the ``article:published_time`` meta tag, when it reads as an ISO date."""
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        found = _DATE_PUBLISHED.search(script.text or "")
        if found and parse_iso_date(found.group(1)):
            return found.group(1)
    for content in tree.xpath(_PUBLISHED_META):
        if parse_iso_date(str(content)):
            return str(content)
    return None


# Author meta tags under names trafilatura's reader does not know ('article_author',
# 'sailthru.author', 'dc.creator'): content management systems name the field their own way.
_AUTHOR_META = (
    ".//head/meta[contains(translate(@name, 'AUTHORCE', 'authorce'), 'author') or "
    "translate(@name, 'DCREATO', 'dcreato') = 'dc.creator']/@content"
)


def _author_meta(tree: Any) -> str | None:
    for content in tree.xpath(_AUTHOR_META):
        name = clean_inline(str(content))
        if " " in name and len(name) <= 100 and not name.startswith(("http", "{", "[")):
            return name
    return None


def parse_text(text: str, url: str | None = None) -> Article:
    """Read plain article text. Its first line is the title only when a blank line and more
    text follow it and it reads as a headline (no final full stop, at most 30 words); anything
    else is body, so a one-paragraph article keeps all of its text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    title: str | None = None
    if (
        len(lines) >= 3
        and not lines[1].strip()
        and any(line.strip() for line in lines[2:])
        and _is_headline(lines[0])
    ):
        title = clean_inline(lines[0]) or None
        lines = lines[1:]
    paragraphs = [line for line in lines if line.strip()]
    return Article(
        text="\n\n".join(clean_paragraphs(paragraphs, title=title)),
        title=title,
        published=published_from_lines(paragraphs),
        url=url,
    )


def _is_headline(line: str) -> bool:
    line = line.strip()
    return 0 < len(line.split()) <= MAX_TITLE_WORDS and not _FINAL_MARK.search(line)


# A page with more top headings than this uses <h1> for other things (teasers, sections).
_MAX_HEADINGS = 3


def _headings(tree: Any) -> list[str]:
    """The page's top headings (<h1>): the headline as shown, which may be worded otherwise
    than the <title>."""
    found = [clean_inline(h.text_content()) for h in tree.iter("h1")]
    return [h for h in found if h][:_MAX_HEADINGS]


def _deck(tree: Any, description: str | None) -> list[str]:
    """The standfirst when the page sets it as a subheading (<h2>) that is also its
    description: like the headline, page furniture above the story, not its opening."""
    if not description or len(description.split()) < _DECK_MIN_WORDS:
        return []
    want = _WORDS.findall(description.lower())
    for heading in tree.iter("h2"):
        text = clean_inline(heading.text_content())
        if _WORDS.findall(text.lower()) == want:
            return [text]
    return []


_WORDS = re.compile(r"\w+")
_DECK_MIN_WORDS = 8


def _prune_furniture(tree: Any) -> Any:
    """The page (changed in place) without captions, asides and elements whose class or id
    names them furniture (caption, credit, related, share, newsletter, promo ...), unless they
    hold prose."""
    _unmark_embedded_posts(tree)
    _wrap_loose_text(tree)
    page_chars = len(tree.text_content()) or 1
    doomed: list[Any] = []
    # only the elements that may be furniture: by tag, or named so (each once)
    candidates = dict.fromkeys(_FURNITURE_TAGS(tree))
    for names in _NAMES:
        for name in names(tree):
            if _FURNITURE_NAME.search(name):
                candidates[name.getparent()] = None
    for element in candidates:
        if _is_link_card(element):
            doomed.append(element)
            continue
        if element.tag in _DROP_TAGS and not _holds_prose(element):
            doomed.append(element)
            continue
        names = f"{element.get('class', '')} {element.get('id', '')}"
        if (
            element.tag not in ("html", "body", "article", "main")
            and _FURNITURE_NAME.search(names)
            and len(element.text_content()) < _MAX_FURNITURE_SHARE * page_chars
            and not _holds_prose(element)
        ):
            doomed.append(element)
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            _remove_keeping_tail(element, parent)
    return tree


# Inline elements that run on within a sentence; anything else (a <br>, a block) ends it.
_INLINE_TAGS = frozenset(
    {"a", "abbr", "b", "bdi", "cite", "code", "em", "font", "i", "mark", "q", "s", "small"}
    | {"span", "strong", "sub", "sup", "time", "u"}
)
_CONTAINER_TAGS = ("div", "section", "article", "main", "td")
_LOOSE_PROSE_WORDS = 8


def _wrap_loose_text(tree: Any) -> None:
    """A container whose own text opens with prose before its first child ('<div>Following
    the … <em>DigiTimes</em>. A preview …<br>') holds a paragraph not in any <p>: wrap that run
    in one, which the extractor would otherwise pass over while keeping the rest."""
    for element in list(tree.iter(*_CONTAINER_TAGS)):
        text = element.text or ""
        if len(element) == 0 or len(text.split()) < _LOOSE_PROSE_WORDS:
            continue
        paragraph = element.makeelement("p", {})
        paragraph.text = text
        element.text = None
        for child in list(element):
            if not isinstance(child.tag, str) or child.tag not in _INLINE_TAGS:
                break
            paragraph.append(child)  # moves the child with its tail
        element.insert(0, paragraph)


_EMBEDDED_POST = re.compile(r"tweet|instagram|tiktok|bluesky|threads|mastodon|facebook", re.I)
_EMBED_WRAPPER = re.compile(r"social|embed|share|tweet|twitter", re.I)


def _unmark_embedded_posts(tree: Any) -> None:
    """An embedded post (a tweet quoted in the story) is article text: take the 'social' and
    'embed' names off it and its wrappers, which would get it dropped as a share widget."""
    for quote in tree.iter("blockquote"):
        if not _EMBEDDED_POST.search(quote.get("class", "")):
            continue
        quote.attrib.pop("class", None)
        wrapper = quote.getparent()
        for _ in range(3):
            if wrapper is None or wrapper.tag in ("article", "main", "body"):
                break
            if _EMBED_WRAPPER.search(f"{wrapper.get('class', '')} {wrapper.get('id', '')}"):
                wrapper.attrib.pop("class", None)
                wrapper.attrib.pop("id", None)
            wrapper = wrapper.getparent()


def _is_link_card(element: Any) -> bool:
    """A span of links inside a paragraph: a hover card (a person's name, then links to their
    stories) that would run into the sentence around it. The innermost such span is the card;
    the one around it may hold the name the sentence needs."""
    if element.tag not in ("span", "div") or next(element.iterancestors("p"), None) is None:
        return False
    return _is_mostly_links(element) and not any(
        _is_mostly_links(inner) for inner in element.iterdescendants("span", "div")
    )


def _is_mostly_links(element: Any) -> bool:
    links = list(element.iter("a"))
    if len(links) < 3:
        return False
    linked = sum(len(a.text_content()) for a in links)
    return linked >= 0.8 * len(element.text_content())


def _holds_prose(element: Any) -> bool:
    """Two paragraphs or more of 30 words, mostly not link text: an article, whatever its name
    (a body marked 'no-share', a wrapper named after an ad network)."""
    found = 0
    for paragraph in element.iter("p"):
        text = paragraph.text_content()
        if len(text.split()) < _PROSE_WORDS:
            continue
        linked = sum(len(a.text_content()) for a in paragraph.iter("a"))
        if linked * 2 < len(text):
            found += 1
            if found >= 2:
                return True
    return False


def _remove_keeping_tail(element: Any, parent: Any) -> None:
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
