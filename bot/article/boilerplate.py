"""What page boilerplate looks like, one paragraph at a time: photo captions and credits,
bylines, date lines, share and subscribe prompts, related-link labels, site furniture."""

from __future__ import annotations

import re
from datetime import date

from bot.article.dates import parse_date

_WORD = re.compile(r"\w+")


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
    if _SOURCE_CREDIT.match(paragraph) and count_words(paragraph) <= 6:
        return True
    return bool(_CREDIT_LINE.match(paragraph)) and count_words(paragraph) <= 30


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
    if count_words(paragraph) > 40:
        return False
    if _REPORTING.match(paragraph):
        return True
    if count_words(paragraph) > 14:
        return False
    if _BYLINE.match(paragraph) or _NAME_AND_WIRE.match(paragraph):
        return True
    if author and len(author.split()) >= 2 and not ends_sentence(paragraph):
        return norm(paragraph).startswith(norm(author)) and count_words(paragraph) <= 8
    return False


_BYLINE_NAME = re.compile(rf"^(?:By|BY|(?:Words|Written|Story|Text) by)\s+({_NAME})")


def byline_author(paragraphs: list[str]) -> str | None:
    """The writer a 'By Jane Doe' line above the story names (a byline is how a news page
    credits its writer), when one of ``paragraphs`` is such a line."""
    for paragraph in paragraphs:
        paragraph = " ".join(paragraph.split())
        found = _BYLINE_NAME.match(paragraph)
        if found and is_byline(paragraph) and len(found.group(1).split()) >= 2:
            return found.group(1).rstrip(".")
    return None


def is_date_line(paragraph: str) -> bool:
    """'Published January 11, 2022', 'Updated at 1:23 p.m.', 'Published in Dawn, ...', a date."""
    words = count_words(paragraph)
    if words > 16:
        return False
    if _READ_TIME.match(paragraph):
        return True
    keyword = _DATE_LINE.match(paragraph)
    if keyword and (re.search(r"\d", paragraph) or re.search(r"\bago\b", paragraph, re.I)):
        # what is left beside the date is at most a source: 'Published in Dawn, <date>'
        rest = _DATE_TOKEN.sub(" ", paragraph[keyword.end() :])
        return count_words(re.sub(r"\b(?:in|by|ago|hours?|minutes?|days?)\b", "", rest)) <= 3
    if words <= 8 and parse_date(paragraph):
        # a label and a date: 'Date: 2018-08-25 15:24', '기사입력 :[ 2018-08-25 15:24 ]'
        return count_words(_DATE_TOKEN.sub(" ", paragraph).strip(" []()")) <= 2
    return is_bare_date(paragraph)


def is_bare_date(paragraph: str) -> bool:
    """A line that is a date or time and nothing else ('04 May, 2024', 'Nov. 19, 2019 10:02 AM'),
    or a dated credit line ('Jane Doe | Palma | 08/01/2014')."""
    if count_words(paragraph) > 10 or not re.search(
        rf"\b(?:{_MONTH}|(?:19|20)\d\d)\b", paragraph, re.I
    ):
        return False
    if paragraph.count(" | ") >= 2 and not ends_sentence(paragraph):
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
RELATED_LABEL = re.compile(
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
    return count_words(paragraph) <= 45 and bool(_PROMPT_ANYWHERE.search(paragraph))


def is_related_label(paragraph: str) -> bool:
    """'Read more: ...', 'RELATED: ...', 'You may also like...', 'More:' and teaser tags."""
    if count_words(paragraph) > 30:
        return False
    return bool(RELATED_LABEL.match(paragraph) or _TEASER_TAG.search(paragraph))


def is_furniture(paragraph: str) -> bool:
    """A page's furniture: 'Advertisement', 'Comments', 'Share', section names, rules of dashes."""
    flat = paragraph.strip(" -–—_*•·|[]()").lower()
    if re.fullmatch(r"\[[^\[\]]{1,60}\]", paragraph) and count_words(paragraph) <= 5:
        return True  # '[Engadget]', '[Photo=JTBC]': a bracketed label, a link or a credit
    return flat in _FURNITURE or not re.search(r"[^\W_]", paragraph)


def is_title_like(paragraph: str) -> bool:
    """A short line that does not end a sentence: a headline, a section name, a list label."""
    text = paragraph.lstrip("-•* ").strip()
    if text.endswith(("...", "…")):
        return True
    return count_words(text) <= 14 and not ends_sentence(text)


def norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


_UNSPACED_SCRIPT = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words by spaces, and for scripts written without them (Chinese, Japanese, Thai) about
    one word for every two characters."""
    return len(text.split()) + len(_UNSPACED_SCRIPT.findall(text)) // 2


def ends_sentence(text: str) -> bool:
    return text.rstrip("\"”’')]» ").endswith(
        (".", "!", "?", ":", ";")
    ) and not text.rstrip().endswith(("...", "…"))
