"""An article's body without what is not article: boilerplate paragraphs (bot.article.boilerplate),
the headline and standfirst repeated on top, and a list of other stories at the end; titles
without site names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.article.boilerplate import (
    RELATED_LABEL,
    count_words,
    date_line_published,
    is_byline,
    is_caption,
    is_date_line,
    is_furniture,
    is_prompt,
    is_related_label,
    is_title_like,
    norm,
)

# zero-width joiners (\u200c, \u200d) are left alone: Bengali, Persian and emoji need them
_SPACE = re.compile(r"[\s\u200b\u2060\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_inline(text: str) -> str:
    """One line of text: control characters gone, every run of whitespace one space."""
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


# --- titles ---------------------------------------------------------------------------------

_TITLE_SEPARATOR = re.compile(r"\s+(?:\||»|::|-|–|—|--|·)\s+")


def clean_title(title: str, site_name: str | None = None, others: Sequence[str | None] = ()) -> str:
    """The headline without the site or section names pages append ('... | CNN Politics').
    ``others`` are more names of the source: the page's host name, the feed's title."""
    title = strip_site_name(clean_inline(title), (site_name, *others))
    if site_name:
        site = re.escape(clean_inline(site_name))
        stripped = re.sub(rf"\s*(?:[|»:·–—-]+|--)\s*{site}\s*$", "", title, flags=re.I)
        stripped = re.sub(rf"^\s*{site}\s*(?:[|»:·–—-]+|--)\s*", "", stripped, flags=re.I)
        if len(stripped) >= 6:
            title = stripped
    title = _CJK_SITE_SUFFIX.sub("", title)
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1 and _is_site_like(parts[-1]) and count_words(parts[0]) >= 3:
        parts.pop()
    return " - ".join(parts) if len(parts) > 1 else parts[0]


# How a site's name is joined to a headline: 'Headline - oregonlive.com', 'The Sun | Headline'.
_NAME_JOINT = re.compile(r"\s+(?:-|–|—|--|\||::|·|»)\s+")
# What a headline keeps when a leading name goes: 'Apple - the company' is a headline.
_MIN_HEADLINE_WORDS = 4


def strip_site_name(title: str, names: Sequence[str | None]) -> str:
    """The headline without a trailing (or leading) part that is one of the source's names
    (its site name, host name or feed title), joined by ' - ', ' – ', ' | ' or ' :: ': a news
    page and a feed title their stories so in browser tabs and readers, and the source is shown
    beside the headline anyway. Only a part equal to such a name goes, never headline words."""
    known = set()
    for name in names:
        if not name:
            continue
        known |= _name_forms(name)
        # a feed titled 'The Sun - Top Stories' names its site in its first part
        known |= _name_forms(_NAME_JOINT.split(name.strip())[0])
    known.discard("")
    if not known:
        return title
    parts = _NAME_JOINT.split(title)
    if len(parts) > 1 and _name_key(parts[-1]) in known:
        title = title[: title.rindex(parts[-1])].rstrip(" -–—|:·»")
        parts = parts[:-1]
    if len(parts) > 1 and _name_key(parts[0]) in known:
        rest = title[len(parts[0]) :].lstrip(" -–—|:·»")
        if count_words(rest) >= _MIN_HEADLINE_WORDS:
            title = rest
    return title


def _name_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _name_forms(name: str) -> set[str]:
    """A name as titles write it: 'www.oregonlive.com' is also 'oregonlive.com', 'oregonlive'."""
    name = name.strip().lower()
    forms = {_name_key(name)}
    host = re.sub(r"^(?:https?://)?(?:www\d?\.|m\.)?", "", name).split("/")[0]
    if "." in host and " " not in host:
        forms |= {_name_key(host), _name_key(host.rsplit(".", 1)[0])}
    return forms


# Chinese and Japanese pages join the site name without spaces: '标题-新华网', '标题_网易'.
_CJK_SITE_SUFFIX = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*[-_｜|]\s*[\u3000-\u9fff]{2,8}$"
)


def _is_site_like(part: str) -> bool:
    words = part.split()
    return 0 < len(words) <= 4 and all(not w[0].isalpha() or not w[0].islower() for w in words)


# --- the whole body --------------------------------------------------------------------------


def clean_paragraphs(
    paragraphs: Sequence[str],
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    headings: Sequence[str] = (),
) -> list[str]:
    """Drop what is not article body: captions, bylines, date lines, share prompts, related
    links, the headline and standfirst repeated on top, and a sidebar after the article.
    ``headings`` are the page's top headings (<h1>), which may word the headline otherwise
    than its <title>."""
    judged = judge_paragraphs(paragraphs, title, description, author, headings)
    return [p for p, why in judged if not why]


def judge_paragraphs(
    paragraphs: Sequence[str],
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    headings: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """Each paragraph (inline-cleaned) with why it is not body ('' when it is body)."""
    judged: list[tuple[str, str]] = []
    previous = ""
    in_link_list = label_only = False
    for raw in paragraphs:
        paragraph = clean_inline(raw)
        key = norm(paragraph)
        if not paragraph:
            continue
        why = _why_not_body(paragraph, author)
        if key == previous:
            why = "repeat"
        previous = key
        if in_link_list and not why:
            is_item = paragraph.startswith(("- ", "• "))
            if (
                (label_only or is_item)
                and count_words(paragraph) <= 16
                and not paragraph.endswith(".")
            ):
                why = "link list"
            else:
                in_link_list = False
        if why == "related":
            # a bare label ('More:', 'You may also like...') heads a list of headlines, and
            # a link ('Related: ...') may be the first of a list
            in_link_list = True
            label_only = count_words(RELATED_LABEL.sub("", paragraph)) == 0
        judged.append((paragraph, why))
    _mark_head_repeats(judged, [t for t in (title, *headings) if t], description)
    _mark_tail_sidebar(judged)
    return judged


def _why_not_body(paragraph: str, author: str | None) -> str:
    if is_related_label(paragraph):
        return "related"
    if is_furniture(paragraph):
        return "furniture"
    if is_caption(paragraph):
        return "caption"
    if is_date_line(paragraph):
        return "date line"
    if is_byline(paragraph, author):
        return "byline"
    if is_prompt(paragraph):
        return "prompt"
    return ""


# A standfirst (dek) is a sentence or two; a longer paragraph that a page also gives as its
# description is the article's opening paragraph, which pages often reuse as description.
MAX_STANDFIRST_WORDS = 40


def _mark_head_repeats(
    judged: list[tuple[str, str]], titles: Sequence[str], description: str | None
) -> None:
    """The headline (as <title> or <h1> word it), and then the standfirst, repeated at the
    top of the body."""
    heads = [norm(t) for t in titles]
    dropped_title = False
    body = [i for i, (_, why) in enumerate(judged) if not why]
    for i in body[:2]:
        head = norm(judged[i][0])
        if _is_headline(head, heads):
            judged[i] = (judged[i][0], "title")
            dropped_title = True
        elif (
            dropped_title
            and description
            and count_words(judged[i][0]) <= MAX_STANDFIRST_WORDS
            and _same_text(head, norm(description))
        ):
            judged[i] = (judged[i][0], "standfirst")
        else:
            break


def _is_headline(paragraph: str, heads: Sequence[str]) -> bool:
    return any(_same_text(paragraph, head) for head in heads)


def _mark_tail_sidebar(judged: list[tuple[str, str]]) -> None:
    """Cut a list of other stories after the article's last paragraph.

    Such a list is mostly headline-like lines (three or more, at least two thirds of what
    follows) and shows throughout that it is furniture: dates, 'Updated ...' lines, labels,
    repeated headlines or teasers cut with an ellipsis (two or more, a third of the lines).
    A list inside an article, such as ingredients, steps or code, has no such marks.
    """
    body = [i for i, (_, why) in enumerate(judged) if not why]
    if not body:
        return
    end = body[-1] + 1  # what is dropped after the last body paragraph is no evidence
    if not is_title_like(judged[body[-1]][0]):
        return  # an article ends with a sentence, a list of stories with a headline or teaser
    cut = end
    junk = evidence = 0
    for n in range(end - 1, 0, -1):
        paragraph, why = judged[n]
        teaser = paragraph.endswith(("...", "…"))
        if why in _SIDEBAR_MARKS or teaser:
            evidence += 1
        if why or is_title_like(paragraph):
            junk += 1
            tail = end - n
            if junk >= 3 and evidence >= 2 and evidence * 3 >= tail and junk * 3 >= tail * 2:
                cut = n
    for i in range(cut, end):
        if not judged[i][1]:
            judged[i] = (judged[i][0], "sidebar")


_SIDEBAR_MARKS = {"date line", "related", "repeat", "link list"}


def published_from_lines(paragraphs: Sequence[str], max_lines: int = 6) -> date | None:
    """The publication date given by a date line among the first few paragraphs."""
    for paragraph in paragraphs[:max_lines]:
        found = date_line_published(clean_inline(paragraph))
        if found:
            return found
    return None


def _same_text(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    shorter, longer = sorted((wa, wb), key=len)
    return (
        len(shorter) >= 3
        and len(shorter) >= 0.8 * len(longer)
        and " ".join(shorter) in " ".join(longer)
    )
