"""An article's lead: its true first sentences, past what a page puts before the story.

Pages and feeds put things before an article's first sentence that are not the story: the
headline again, kickers and section labels, "By …" and "Published …" lines, photo captions
and credits, editor's notes, and the dateline ("KABUL:", "WASHINGTON (AP) —") in front of
the first sentence. The lead skips them, and starts at the first sentence of substance.
"""

from __future__ import annotations

import re

from bot.article.languages import count_words
from bot.article.languages import strip_dateline as strip_foreign_dateline
from bot.article.sentences import split_sentences

# A lead opens with a sentence of substance: a fragment ("Hong Kong is burning.") is a kicker.
MIN_FIRST_SENTENCE_WORDS = 8
# Later lead sentences may be short ("Traffic was light."), but not a bare "Why?" or "Wait, what?".
MIN_SENTENCE_WORDS = 3
# A line without a final mark is a heading or label when it is this short; longer, it is
# prose that lost its full stop.
MAX_HEADING_WORDS = 20

_WORD = re.compile(r"\w+")
# Third-person subject pronouns: a sentence opening with one continues the sentence before.
_SUBJECT_PRONOUNS = frozenset(
    str.split("""he she they er sie il elle ils elles él ella ellos ellas он она они وہ انہوں
    اُنہوں انھوں اُنھوں वह उन्होंने उसने هو هي""")
)
_OPENING_MARKS = "\"'“”‘’«»„(["
# A final mark, maybe followed by closing quotes, brackets and emoji ("… on KLOOK! 🙂").
_FINAL_MARK = re.compile(r"[.!?…:;。！？][\s”’\"')\]»\u2190-\u2bff\U0001f000-\U0001faff\ufe0f]*$")

# Lines that belong to the page around the story, whatever follows them.
_NOT_STORY_LINE = re.compile(
    r"""^[\W_]*(?:
        written\ by | reporting\ by | editing\ by | additional\ reporting
      | (?:published | updated | last\ updated | posted | first\ published)\b\s*(?:
            [:|] | on\b | at\b | by\b | \d | $
          | (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)
        )
      | editor[’']?s?\ note | eds?\.?\ note | update\b\s*: | correction\b\s*:
      | photo(?:graph)?s?\b\s*[:/|] | image\b\s*[:/|] | picture\b\s*: | credit\b\s*:
      | source\b\s*: | read\ (?:more|also)\b | related\b\s*: | see\ also\b | watch\b\s*:
      | listen\b\s*: | scroll\ down\b | click\ (?:here|for)\b | sign\ up\b
      | (?:tempo|temps|tiempo)\ de\ lec?tura\b | reading\ time\b | \d+\s*min(?:ute)?s?\ read\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# A byline: "By Jane Doe, Staff Writer", "By:", tokenised "by ." — a name and no sentence
# ("By Tuesday, the storm had passed." and "By the time …" are sentences).
_BYLINE = re.compile(r"^\W*by\s*(?:[.:|]|[A-Z][^.!?]*$)", re.IGNORECASE)
MAX_BYLINE_WORDS = 10
# A paragraph this long is prose even when it opens like a page line; its sentences are
# judged one by one.
MAX_PAGE_LINE_WORDS = 40

# Captions: a credit at the end ("… — Screengrab via Tolo News", "(Photo: Reuters)"), or a
# pointer at the picture ("Smith (pictured) …", "( left )", "(file image)").
_CAPTION = re.compile(
    r"""(?:
        [—–|]\s*(?:photo|screengrab|image|picture|file|courtesy|credit|video)\b[^.!?]*$
      | \(\s*(?:photo|image|picture|credit|file\ (?:photo|picture|image)|pictured|inset
               |left|right|above|below|centre|center|top|bottom|main\ picture)\b[^)]*\)
      | \b(?:getty\ images|afp\ via\ getty|ap\ photo|reuters/|epa-efe|shutterstock)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# A dateline: a place in capitals, optionally its region or date and the agency, then a colon
# or a dash ("KABUL:", "NEW YORK —", "LONDON, Jan 5 (Reuters) -", "HAYWARD, Calif. (AP) —");
# or an agency alone ("(CNN) —", "( cnn )").
_AGENCY = r"\(\s*[A-Za-z][\w .&/-]{0,30}?\s*\)"
_DATELINE = re.compile(
    rf"""^(?:
        [A-Z][A-Z'’.\-]+(?:\s+[A-Z][A-Z'’.\-]*)*          # KABUL, NEW YORK, ST. LOUIS
        (?:\s*,\s*[\w.]+(?:\s+[\w.]+){{0,3}}?)?            # , Calif. / , Jan 5 / , Pakistan
        (?:\s*{_AGENCY})?
        \s*(?::|[—–]|-{{1,2}})\s+
      | [A-Z][\w'’.\-]+(?:\s+[A-Z][\w'’.\-]+)*             # Hayward / San Francisco
        (?:\s*,\s*[\w.]+(?:\s+[\w.]+){{0,3}}?)?
        \s*{_AGENCY}\s*(?:[—–:]|-{{1,2}})?\s+
      | [A-Z][\w'’.\-]+(?:\s+[A-Z][\w'’.\-]+){{0,2}}          # Dekalb, Ill. — / New York, NY –
        (?:\s*,\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*){{0,2}}){{1,2}}
        \s*(?::|[—–]|-{{1,2}})\s+
    )(?=[^\w\s]*[A-Z0-9])                                    # then a sentence starts
    | ^{_AGENCY}\s*(?:[—–:]|-{{1,2}})?\s*(?=\S)                # (CNN) --, tokenised ( cnn )
    """,
    re.VERBOSE,
)


def select_lead(
    text: str,
    count: int,
    title: str | None = None,
    language: str | None = None,
    description: str | None = None,
) -> list[str]:
    """The article's first ``count`` sentences, in order, past what is not the story.
    ``language`` (ISO 639-1) picks the sentence rules and dateline forms; ``description`` is
    the page's own summary (its description meta, or the feed entry's summary)."""
    if count <= 0:
        return []
    lead: list[str] = []
    paragraphs = _paragraphs(text)
    for paragraph in paragraphs[_story_start(paragraphs, title, description) :]:
        if _is_not_story(paragraph, title, started=bool(lead)):
            continue
        sentences = split_sentences(paragraph, language)
        for i, sentence in enumerate(sentences):
            if _is_not_story_sentence(sentence):
                continue
            if not lead:
                sentence = strip_dateline(_without_label(sentence))
                after_dateline = False
                if language not in (None, "en"):
                    # A sentence after a dateline opens the story, however short: kickers
                    # and labels carry no dateline.
                    stripped = strip_foreign_dateline(sentence)
                    after_dateline, sentence = stripped != sentence, stripped
                # Nor is a kicker what the next sentence's "she" points back to.
                introduces = i + 1 < len(sentences) and _opens_with_pronoun(sentences[i + 1])
                if count_words(sentence) < MIN_FIRST_SENTENCE_WORDS and not (
                    after_dateline or (introduces and count_words(sentence) >= MIN_SENTENCE_WORDS)
                ):
                    continue
            elif count_words(sentence) < MIN_SENTENCE_WORDS:
                continue
            lead.append(sentence)
            if len(lead) == count:
                return lead
    if lead:
        return lead
    sentences = split_sentences(text, language)
    return [" ".join(s.split()) for s in sentences if _WORD.search(s)][:count]


def _opens_with_pronoun(sentence: str) -> bool:
    """Whether a sentence opens with a third-person subject pronoun ("She …", "وہ …")."""
    words = sentence.split()
    return bool(words) and words[0].strip(_OPENING_MARKS).lower() in _SUBJECT_PRONOUNS


def strip_dateline(sentence: str) -> str:
    """The sentence without a dateline in front ("KABUL: The …" -> "The …")."""
    match = _DATELINE.match(sentence)
    if not match:
        return sentence
    rest = sentence[match.end() :]
    if len(_WORD.findall(rest)) < 3:
        return sentence
    return rest


def _paragraphs(text: str) -> list[str]:
    """Paragraphs with inner whitespace collapsed; a paragraph that opens in lower case and
    follows one without a final mark continues it (text wrapped by the page's markup)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*\S)", text):
        paragraph = " ".join(block.split())
        if not paragraph:
            continue
        if out and paragraph[0].islower() and not _FINAL_MARK.search(out[-1]):
            out[-1] = f"{out[-1]} {paragraph}"
        else:
            out.append(paragraph)
    return out


def _is_not_story(paragraph: str, title: str | None, *, started: bool) -> bool:
    """A paragraph that is not the article's prose: the headline again, a label or
    heading (no final mark), a byline, date, caption or prompt line."""
    if _is_title(paragraph, title):
        return True
    if _is_page_line(paragraph) and len(_WORD.findall(paragraph)) <= MAX_PAGE_LINE_WORDS:
        return True
    if _FINAL_MARK.search(paragraph):
        return False
    # No final mark: a heading or label, unless it is prose that only lost its full stop.
    is_short = len(_WORD.findall(paragraph)) <= MAX_HEADING_WORDS
    return is_short and len(split_sentences(paragraph)) < 2


def _is_not_story_sentence(sentence: str) -> bool:
    return _is_page_line(sentence) or bool(_CAPTION.search(sentence))


def _is_page_line(text: str) -> bool:
    """A byline, date, note, credit or prompt line of the page."""
    if _NOT_STORY_LINE.match(text):
        return True
    return bool(_BYLINE.match(text)) and len(_WORD.findall(text)) <= MAX_BYLINE_WORDS


# How far down the body the headline may stand below teasers of other stories.
_MAX_HEADLINE_DEPTH = 6
# Words of the description a paragraph must open with to be where it starts.
_DESCRIPTION_WORDS = 10


def _story_start(paragraphs: list[str], title: str | None, description: str | None) -> int:
    """Where the story starts: 0, unless the headline stands lower in the body and the
    paragraph right below it opens as the page's description does. Then what stands above
    the headline is another story's teaser, and the page's own summary shows where this
    one starts."""
    want = _WORD.findall((description or "").lower())[:_DESCRIPTION_WORDS]
    if not title or len(want) < _DESCRIPTION_WORDS:
        return 0
    for i in range(1, min(len(paragraphs), _MAX_HEADLINE_DEPTH + 1)):
        opening = _WORD.findall(paragraphs[i].lower())[: len(want)]
        if opening == want and _is_title(paragraphs[i - 1], title):
            return i
    return 0


# A bracketed label before the first sentence ('[Exclusive]', '[엔터미디어=정덕현의 이슈공감]'):
# a kicker or the desk's credit, not the story.
_LABEL = re.compile(r"^\[[^\[\]]{1,40}\]\s*(?=\S)")


def _without_label(sentence: str) -> str:
    match = _LABEL.match(sentence)
    if match is None or count_words(sentence[match.end() :]) < MIN_FIRST_SENTENCE_WORDS:
        return sentence
    return sentence[match.end() :]


def _is_title(paragraph: str, title: str | None) -> bool:
    """The headline repeated, in any case, with or without the site's name beside it."""
    if not title:
        return False
    words = _WORD.findall(paragraph.lower())
    if not words:
        return False
    parts = re.split(r"\s+[|–—-]\s+|\s+::\s+", title)
    candidates = [title, *parts] if len(parts) > 1 else [title]
    return any(words == _WORD.findall(c.lower()) for c in candidates)
