"""What is not article body, recognised paragraph by paragraph: captions, credits, bylines,
date lines, prompts, related links, the headline repeated on top and the sidebar at the end."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.dates import parse_date

# zero-width joiners (\u200c, \u200d) are left alone: Bengali, Persian and emoji need them
_SPACE = re.compile(r"[\s\u200b\u2060\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"\w+")


def clean_inline(text: str) -> str:
    """One line of text: control characters gone, every run of whitespace one space."""
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


# --- titles ---------------------------------------------------------------------------------

_TITLE_SEPARATOR = re.compile(r"\s+(?:\||»|::|-|–|—|--|·)\s+")


def clean_title(title: str, site_name: str | None = None) -> str:
    """The headline without the site or section names pages append ('... | CNN Politics')."""
    title = clean_inline(title)
    if site_name:
        site = re.escape(clean_inline(site_name))
        stripped = re.sub(rf"\s*(?:[|»:·–—-]+|--)\s*{site}\s*$", "", title, flags=re.I)
        stripped = re.sub(rf"^\s*{site}\s*(?:[|»:·–—-]+|--)\s*", "", stripped, flags=re.I)
        if len(stripped) >= 6:
            title = stripped
    title = _CJK_SITE_SUFFIX.sub("", title)
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1 and _is_site_like(parts[-1]) and _count_words(parts[0]) >= 3:
        parts.pop()
    return " - ".join(parts) if len(parts) > 1 else parts[0]


# Chinese and Japanese pages join the site name without spaces: '标题-新华网', '标题_网易'.
_CJK_SITE_SUFFIX = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*[-_｜|]\s*[\u3000-\u9fff]{2,8}$"
)


def _is_site_like(part: str) -> bool:
    words = part.split()
    return 0 < len(words) <= 4 and all(not w[0].isalpha() or not w[0].islower() for w in words)


# --- captions and credits ------------------------------------------------------------------

_CREDIT_WORDS = (
    r"(?:file\s+)?(?:photo(?:graph)?s?|screen\s*(?:grab|shot)|image|picture|pic|courtesy|credit"
    r"|illustration|video\s+grab|graphic|source:\s*(?:photo|image))"
)
# "... — Screengrab via Tolo News", "... - Photo: Reuters"; the caption before it goes too.
_CREDIT_SUFFIX = re.compile(rf"\s[—–-]{{1,2}}\s*{_CREDIT_WORDS}\b[^.!?]{{0,80}}[.]?$", re.I)
# "(AP Photo/Evan Vucci)", "(Image credit: NASA)", "(Photo by Jane Doe/Getty Images)"
_CREDIT_PARENS = re.compile(
    r"[(\[]\s*(?:(?:AP|AFP|EPA|Reuters|Getty|PA|Xinhua|UPI|Bloomberg|File)\s*(?:Photo|Images|Wire)?"
    r"\s*[/:]|(?:photo|image|picture|illustration|video)s?\s*(?:credit|by|courtesy|:|/)|credit\s*:)"
    r"[^)\]]{0,100}[)\]]\s*$",
    re.I,
)
# "Photo: Reuters/Jane Doe", "Image credit: NASA", "Photograph by ..."
_CREDIT_LINE = re.compile(rf"^[(\[]?\s*{_CREDIT_WORDS}\s*(?:credits?)?\s*(?:by|via|:|/|\|)", re.I)
_CREDIT_AGENCY_TAIL = re.compile(r"(?:/|\|)\s*(?:Getty Images|Shutterstock|AP|AFP|Reuters|EPA)\s*$")


_SOURCE_CREDIT = re.compile(r"^(?:source|sources|via)\s*:\s*\S", re.I)


def is_caption(paragraph: str) -> bool:
    """A photo caption or credit: ending '— Photo: ...' or '(AP Photo/...)', or 'Photo: ...'."""
    if _CREDIT_SUFFIX.search(paragraph) or _CREDIT_PARENS.search(paragraph):
        return True
    if _CREDIT_AGENCY_TAIL.search(paragraph):
        return True
    if _SOURCE_CREDIT.match(paragraph) and _count_words(paragraph) <= 6:
        return True
    return bool(_CREDIT_LINE.match(paragraph)) and _count_words(paragraph) <= 30


# --- bylines, date lines, reporting credits ----------------------------------------------------

_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|da|al|el|bin|la|le))*"
_WIRE = (
    r"(?:Reuters|Associated Press|AP|AFP|Bloomberg|CNN|BBC(?: News)?|PTI|IANS|ANI|Xinhua|UPI|dpa"
    r"|Agence France-Presse|(?:Staff|Senior|Special|Political|Chief)?\s*(?:Writer|Reporter|"
    r"Correspondent|Editor|Contributor)s?|(?:The )?Washington Post|(?:The )?New York Times)"
)
_BYLINE = re.compile(
    rf"^(?:By|BY|From|FROM|(?:Words|Written|Story|Text) by)\s+{_NAME}"
    rf"(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*[,|/•·—–-]\s*.{{0,60}})?$"
)
_NAME_AND_WIRE = re.compile(
    rf"^(?:{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*\s*[,|/•·—–-]\s*)?\(?{_WIRE}\)?\.?$"
)
_REPORTING = re.compile(
    r"^[(\[]?\s*(?:(?:additional\s+)?reporting|writing|editing|compiled|edited|written|"
    r"research|translated|produced)\s+by\b",
    re.I,
)
_DATE_LINE = re.compile(
    r"^[(\[]?\s*(?:published|updated|last\s+updated|last\s+modified|first\s+published|"
    r"originally\s+published|posted|modified|released|issued|date)\b\s*(?:on|at|in|:)?",
    re.I,
)
_READ_TIME = re.compile(
    r"^(?:reading\s+time|tempo\s+de\s+leitura|lesezeit)?\s*:?\s*\d+\s*(?:min(?:ute)?s?|minutos?)"
    r"(?:\s+(?:read|de\s+leitura))?\.?$",
    re.I,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_TOKEN = re.compile(
    rf"\b(?:{_MONTH}|mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|\d+(?:st|nd|rd|th)?|\b(?:a\.?m|p\.?m|"
    r"[A-Z]{2,4}T|GMT|UTC|PKT|IST|ET|PT|CT|at|on|of|the|hrs?)\b\.?|[,:/|.·•—–-]",
    re.I,
)


def is_byline(paragraph: str, author: str | None = None) -> bool:
    """'By Jane Doe', 'Jane Doe, Reuters', 'Reporting by ...; Editing by ...', the author alone."""
    if _count_words(paragraph) > 40:
        return False
    if _REPORTING.match(paragraph):
        return True
    if _count_words(paragraph) > 14:
        return False
    if _BYLINE.match(paragraph) or _NAME_AND_WIRE.match(paragraph):
        return True
    if author and len(author.split()) >= 2 and not _ends_sentence(paragraph):
        return _norm(paragraph).startswith(_norm(author)) and _count_words(paragraph) <= 8
    return False


def is_date_line(paragraph: str) -> bool:
    """'Published January 11, 2022', 'Updated at 1:23 p.m.', 'Published in Dawn, ...', a date."""
    words = _count_words(paragraph)
    if words > 16:
        return False
    if _READ_TIME.match(paragraph):
        return True
    keyword = _DATE_LINE.match(paragraph)
    if keyword and (re.search(r"\d", paragraph) or re.search(r"\bago\b", paragraph, re.I)):
        # what is left beside the date is at most a source: 'Published in Dawn, <date>'
        rest = _DATE_TOKEN.sub(" ", paragraph[keyword.end() :])
        return _count_words(re.sub(r"\b(?:in|by|ago|hours?|minutes?|days?)\b", "", rest)) <= 3
    if words <= 8 and parse_date(paragraph):
        # a label and a date: 'Date: 2018-08-25 15:24', '기사입력 :[ 2018-08-25 15:24 ]'
        return _count_words(_DATE_TOKEN.sub(" ", paragraph).strip(" []()")) <= 2
    return is_bare_date(paragraph)


def is_bare_date(paragraph: str) -> bool:
    """A line that is a date or time and nothing else ('04 May, 2024', 'Nov. 19, 2019 10:02 AM'),
    or a dated credit line ('Jane Doe | Palma | 08/01/2014')."""
    if _count_words(paragraph) > 10 or not re.search(
        rf"\b(?:{_MONTH}|(?:19|20)\d\d)\b", paragraph, re.I
    ):
        return False
    if paragraph.count(" | ") >= 2 and not _ends_sentence(paragraph):
        return any(not _DATE_TOKEN.sub("", part).strip() for part in paragraph.split(" | "))
    return not _DATE_TOKEN.sub("", paragraph).strip(" ()[]")


def date_line_published(paragraph: str) -> date | None:
    """The date a 'Published ...' line (or a bare date line) gives, if it is one."""
    if not is_date_line(paragraph) or re.match(r"^[(\[]?\s*updated|last", paragraph, re.I):
        return None
    return parse_date(paragraph)


# --- prompts, related links, site furniture ---------------------------------------------------

_PROMPT_ANYWHERE = re.compile(
    r"\bnewsletters?\b|\binbox\b|\bclick(?:ing)? here\b|\btap here\b|\bthanks for signing up"
    r"|^subscribe\b|\bsubscribe (?:to|for|now|today)\b|\byour subscription\b"
    r"|^sign[ -]?up (?:for|to|now|today)\b|\ball rights reserved\b|©|\bcopyright\b"
    r"|\bfollow (?:us|him|her|them|me|@?[\w.]+(?:\s[A-Z][\w.]*){0,4}) on "
    r"(?:twitter|facebook|instagram|linkedin|youtube|tiktok|x\b)"
    r"|\bshare (?:this|it) (?:story|article|post|with)"
    r"|\b(?:get|download) (?:the|our) [\w\s]{0,30}\bapp\b|\b(?:can|may) be reached at\b"
    r"|\b(?:have|got) a (?:news )?tip\b|\bread the (?:rest|full (?:story|article))\b"
    r"|\bstory continues (?:below|after)\b|\bcontinue reading\b|\b(?:earn|receive|get) (?:a|an)"
    r" (?:affiliate )?commission\b|\bshare of the sale\b|\bcomments? (?:are|will be) "
    r"(?:moderated|approved|reviewed)|\blisten (?:live|back|to the podcast)\b"
    r"|\bsend us (?:your|a)\b|\btell us what you think\b|\bjoin (?:our|the) (?:free|conversation"
    r"|discussion|community|mailing list)",
    re.I,
)
_RELATED_LABEL = re.compile(
    r"^[\[(]?\s*(?:read\s+more|read\s+also|also\s+read|read\s+next|read|more|see\s+(?:also|more)"
    r"|related(?:\s+(?:stories|articles|coverage|content|links|news|videos?|reading|posts?))?"
    r"|recommended(?:\s+for\s+you)?|don['’]?t\s+miss|you\s+(?:may|might)\s+also\s+(?:like|enjoy)"
    r"|most\s+(?:read|popular|viewed|shared)|trending(?:\s+now)?|top\s+stories|latest(?:\s+news)?"
    r"|more\s+(?:from|on|about|stories|news|in)\b[^:]{0,40}|further\s+reading|watch|listen|also\s+on"
    r"\s+[\w.]+|also\s+see|also|editor['’]?s\s+picks?|popular|advertisement|sponsored|ad"
    r"|filed\s+under|tags?|topics?|categories|posted\s+in)\b\s*(?:[:|»›>—–-]|\.\.\.|…|$)"
    r"|^also\s+on\s+\w+\.\w+\b",
    re.I,
)
_TEASER_TAG = re.compile(
    r"\[(?:video|pictures|photos?|insight|reaction|revealed|latest|poll|analysis|gallery|watch|"
    r"live|update|comment|explained)\]\s*\|?\s*$",
    re.I,
)
_FURNITURE = {
    "advertisement",
    "advertisements",
    "ad",
    "sponsored",
    "comments",
    "comment",
    "share",
    "share this",
    "share this article",
    "share on facebook",
    "share on twitter",
    "tweet",
    "email",
    "print",
    "loading",
    "loading...",
    "close",
    "skip",
    "sorry!",
    "photos",
    "video",
    "opinion",
    "editorial",
    "tl;dr",
}


def is_prompt(paragraph: str) -> bool:
    """A share, subscribe, follow, newsletter or app prompt, an affiliate note or a copyright."""
    return _count_words(paragraph) <= 45 and bool(_PROMPT_ANYWHERE.search(paragraph))


def is_related_label(paragraph: str) -> bool:
    """'Read more: ...', 'RELATED: ...', 'You may also like...', 'More:' and teaser tags."""
    if _count_words(paragraph) > 30:
        return False
    return bool(_RELATED_LABEL.match(paragraph) or _TEASER_TAG.search(paragraph))


def is_furniture(paragraph: str) -> bool:
    """A page's furniture: 'Advertisement', 'Comments', 'Share', section names, rules of dashes."""
    flat = paragraph.strip(" -–—_*•·|[]()").lower()
    if re.fullmatch(r"\[[^\[\]]{1,60}\]", paragraph) and _count_words(paragraph) <= 5:
        return True  # '[Engadget]', '[Photo=JTBC]': a bracketed label, a link or a credit
    return flat in _FURNITURE or not re.search(r"[^\W_]", paragraph)


def is_title_like(paragraph: str) -> bool:
    """A short line that does not end a sentence: a headline, a section name, a list label."""
    text = paragraph.lstrip("-•* ").strip()
    if text.endswith(("...", "…")):
        return True
    return _count_words(text) <= 14 and not _ends_sentence(text)


# --- the whole body --------------------------------------------------------------------------


def clean_paragraphs(
    paragraphs: Sequence[str],
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
) -> list[str]:
    """Drop what is not article body: captions, bylines, date lines, share prompts, related
    links, the headline and standfirst repeated on top, and a sidebar after the article."""
    return [p for p, why in judge_paragraphs(paragraphs, title, description, author) if not why]


def judge_paragraphs(
    paragraphs: Sequence[str],
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
) -> list[tuple[str, str]]:
    """Each paragraph (inline-cleaned) with why it is not body ('' when it is body)."""
    judged: list[tuple[str, str]] = []
    previous = ""
    in_link_list = label_only = False
    for raw in paragraphs:
        paragraph = clean_inline(raw)
        key = _norm(paragraph)
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
                and _count_words(paragraph) <= 16
                and not paragraph.endswith(".")
            ):
                why = "link list"
            else:
                in_link_list = False
        if why == "related":
            # a bare label ('More:', 'You may also like...') heads a list of headlines, and
            # a link ('Related: ...') may be the first of a list
            in_link_list = True
            label_only = _count_words(_RELATED_LABEL.sub("", paragraph)) == 0
        judged.append((paragraph, why))
    _mark_head_repeats(judged, title, description)
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


def _mark_head_repeats(
    judged: list[tuple[str, str]], title: str | None, description: str | None
) -> None:
    """The headline (and then the standfirst) repeated at the top of the body."""
    dropped_title = False
    body = [i for i, (_, why) in enumerate(judged) if not why]
    for i in body[:2]:
        head = _norm(judged[i][0])
        if title and _same_text(head, _norm(title)):
            judged[i] = (judged[i][0], "title")
            dropped_title = True
        elif dropped_title and description and _same_text(head, _norm(description)):
            judged[i] = (judged[i][0], "standfirst")
        else:
            break


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


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


_UNSPACED_SCRIPT = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def _count_words(text: str) -> int:
    """Words by spaces, and for scripts written without them (Chinese, Japanese, Thai) about
    one word for every two characters."""
    return len(text.split()) + len(_UNSPACED_SCRIPT.findall(text)) // 2


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"”’')]» ").endswith(
        (".", "!", "?", ":", ";")
    ) and not text.rstrip().endswith(("...", "…"))
