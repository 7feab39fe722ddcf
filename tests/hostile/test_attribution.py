"""Texts built to make attribution slow: the name book answers what a plain scan answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.article.names import NameBook
from bot.article.quotes import find_quotes
from bot.article.summary import MAX_SUMMARY_CHARS, summarize, summary_input
from bot.models import Article

QUOTE_BOMB = "John Smith spoke. " + " ".join(["“Yes,” he said."] * 400)


def _reference_fullest(book: NameBook, name: str, before: int | None = None) -> str:
    """``NameBook.fullest`` as a scan over every mention (the definition)."""
    words = name.split()
    if not words:
        return name
    found = [
        m
        for m in book.mentions
        if m.is_person
        and m.words[-1] == words[-1]
        and len(m.words) > len(words)
        and (before is None or m.start < before)
    ]
    if not found and before is not None:
        return _reference_fullest(book, name)
    if not found:
        return name
    return max(found, key=lambda m: (book._counts[m.name], -m.start)).name


def _reference_person_before(book: NameBook, position: int, gender: str | None) -> str | None:
    for m in reversed(book.mentions):
        if m.start >= position or not m.is_person:
            continue
        full = _reference_fullest(book, m.name, before=position)
        if len(full.split()) < 2 and not book.gender_of(full):
            continue
        known = book.gender_of(full)
        if gender and known and known != gender:
            continue
        return full
    return None


_WORDS = st.sampled_from(
    ["Smith", "John", "Ann", "Mr.", "Mrs.", "Lee", "said", "he", "she", "the", "Yes", "Kim", "."]
)


@given(st.lists(_WORDS, max_size=60), st.integers(0, 400), st.sampled_from([None, "m", "f"]))
def test_name_book_answers_what_a_scan_of_every_mention_answers(
    words: list[str], position: int, gender: str | None
) -> None:
    """The indexed name book resolves surnames and pronouns exactly as the plain definition."""
    text = " ".join(words)
    book = NameBook(text)
    for m in book.mentions:
        assert book.fullest(m.name, before=position) == _reference_fullest(book, m.name, position)
        assert book.fullest(m.name) == _reference_fullest(book, m.name)
    assert book.person_before(position, gender, skip=set()) == _reference_person_before(
        book, position, gender
    )


def test_quote_bomb_is_attributed_to_the_person_named_before() -> None:
    """400 “…,” he said. quotes: short ones are no key quotes; long ones are all his."""
    assert find_quotes(QUOTE_BOMB) == []
    bomb = "John Smith spoke. " + " ".join(["“Yes, we will build it now,” he said."] * 400)
    quotes = find_quotes(bomb)
    assert len(quotes) == 400
    assert {quote.speaker for quote in quotes} == {"John Smith"}


@given(st.lists(st.sampled_from(["word ", "Mr. ", "\n\n", "“Yes,” he said. "]), max_size=400))
def test_summariser_reads_whole_paragraphs_from_the_start(parts: list[str]) -> None:
    """The summariser's input is a prefix of the body, within the cap, cut at a paragraph."""
    text = "".join(parts)
    cut = summary_input(text, max_chars=300)
    assert text.startswith(cut)
    assert len(cut) <= 300
    assert cut == text or text[len(cut) : len(cut) + 2] == "\n\n" or len(cut) == 300


def test_a_huge_body_is_summarised_from_its_start_only() -> None:
    """A body far over the cap keeps its whole text; lead and quotes come from its start."""
    early = "“We will reopen the old bridge next spring,” Mayor Ana Lopez said."
    late = "“This quote sits far past what the summariser reads,” Mayor Ana Lopez said."
    body = early + "\n\n" + ("Filler text here. " * 10 + "\n\n") * 5_000 + late
    summary = summarize(Article(text=body))
    assert summary.article.text == body
    assert len(body) > 10 * MAX_SUMMARY_CHARS
    assert all(sentence in body[:MAX_SUMMARY_CHARS] for sentence in summary.lead)
    assert [quote.text for quote in summary.quotes] == ["We will reopen the old bridge next spring"]
