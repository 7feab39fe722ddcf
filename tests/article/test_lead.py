"""The lead: an article's true first sentences, past what a page puts before the story."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.article.lead import select_lead, strip_dateline

FIRST = "The city council approved a new budget for schools and roads on Monday night."
SECOND = "The vote was seven to two after a long debate."
THIRD = "Work on the first roads begins in the spring."
BODY = f"{FIRST} {SECOND}\n\n{THIRD}"


@pytest.mark.parametrize(
    "before",
    [
        "Council backs budget",  # the headline again, or a kicker: no final mark
        "By Jane Doe, Staff Writer",
        "By JANE DOE | Published: 10:33 EST, 3 April 2013",
        "Published January 11, 2022",
        "Updated: 5 May 2024 10:33 BST",
        "Editor's note: This story was updated to correct the date of the vote.",
        "Editor’s Note: An earlier version misspelled a name.",
        "The mayor speaks to reporters after the vote. — Screengrab via City TV",
        "Council members vote on the budget. (Photo: Reuters/Jane Doe)",
        "Photo: AP/John Smith",
        "Mayor Ana Lopez (pictured) said the budget was the city's best in years.",
        "Scroll down for video.",
        "Tempo de leitura: 2 minutos",
        "5 min read",
        "10 p.m.",
        "Spending vote.",  # a fragment, not a sentence of substance
    ],
)
def test_lead_skips_what_is_not_the_story(before: str) -> None:
    """Headlines, bylines, dates, editor's notes, captions and fragments are not the lead."""
    assert select_lead(f"{before}\n\n{BODY}", 2) == [FIRST, SECOND]


@pytest.mark.parametrize(
    "dateline",
    [
        "KABUL:",
        "WASHINGTON (AP) —",
        "LONDON, Jan 5 (Reuters) -",
        "NEW YORK —",
        "HAYWARD, Calif. (AP) —",
        "SIOUX FALLS, S.D. –",
        "(CNN) --",
        "( cnn )",
        "Dekalb, Ill. —",
        "Washington, DC, United States:",
    ],
)
def test_dateline_is_stripped_from_the_first_sentence(dateline: str) -> None:
    """The place and agency before the first sentence are not part of it."""
    assert select_lead(f"{dateline} {FIRST} {SECOND}", 1) == [FIRST]


@pytest.mark.parametrize(
    "sentence",
    [
        "CHINA has sent troops to Hong Kong in a bid to restore order after months of riots.",
        "Summary: Salina South diver Keetan Munsell won the state title with a score of 409.30.",
        "WATCH the mayor explain why the council voted for the budget on Monday night.",
        "However, the mayor — who voted against it — said the budget was a good compromise.",
    ],
)
def test_a_sentence_that_only_starts_in_capitals_keeps_its_words(sentence: str) -> None:
    """Only a place or agency followed by a colon or dash is a dateline."""
    assert strip_dateline(sentence) == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "By Tuesday, the council had approved a new budget for schools and roads.",
        "By the time the vote came, the council chamber was almost empty of residents.",
        "Updated figures show the council approved a new budget for schools and roads.",
        "Published reports say the council approved a new budget for schools and roads.",
    ],
)
def test_a_sentence_that_opens_like_a_byline_is_still_the_lead(sentence: str) -> None:
    """Only a name after "By", or a date after "Published"/"Updated", makes a page line."""
    assert select_lead(f"{sentence} {SECOND}", 1) == [sentence]


def test_headline_repeated_with_final_mark_is_skipped() -> None:
    """The title at the top of the body is skipped even when it ends in ? or !."""
    text = f"Is the budget enough?\n\n{BODY}"
    assert select_lead(text, 1, title="Opinion | Is the Budget Enough?") == [FIRST]


def test_short_first_sentence_gives_way_to_the_next() -> None:
    """A punchy fragment opening an editorial is not the lead; the next sentence is."""
    text = f"Hong Kong is burning. {FIRST} {SECOND}"
    assert select_lead(text, 2) == [FIRST, SECOND]


@pytest.mark.parametrize(
    ("language", "opener", "rest"),
    [
        (None, "Maria Lopez is a nurse.", "She has worked nights at the city hospital for years."),
        (
            "ur",
            "ردا زہرہ کا تعلق کراچی سے ہے۔",
            "وہ ایک تبادلہ پروگرام کےتحت امریکہ میں تعلیم حاصل کر رہی ہیں۔",
        ),
        ("de", "Anna Weber ist Lehrerin.", "Sie unterrichtet seit Jahren an einer Schule in Köln."),
        ("hi", "सीमा शर्मा दिल्ली की हैं।", "उन्होंने पिछले साल अमेरिका में पढ़ाई शुरू की थी।"),
    ],
)
def test_a_short_sentence_the_next_one_points_back_to_opens_the_lead(
    language: str | None, opener: str, rest: str
) -> None:
    """A short first sentence whose person the next sentence calls "she" is the story's
    start, not a kicker: without it the lead would lose who "she" is."""
    assert select_lead(f"{opener} {rest}", 2, language=language) == [opener, rest]


def test_a_kicker_before_a_sentence_without_a_pronoun_is_still_skipped() -> None:
    assert select_lead(f"Hong Kong is burning. {FIRST}", 1) == [FIRST]
    assert select_lead(f"Hong Kong is burning.\n\nShe {FIRST[4:]}", 1) == [f"She {FIRST[4:]}"]


def test_later_lead_sentences_skip_bare_fragments() -> None:
    """After the first sentence, a bare "Why?" is skipped but a short sentence is kept."""
    text = f"{FIRST} Why? Traffic was light."
    assert select_lead(text, 2) == [FIRST, "Traffic was light."]


def test_lead_continues_across_paragraphs_in_order() -> None:
    """Later lead sentences follow in text order, skipping a caption between paragraphs."""
    text = f"{FIRST} {SECOND}\n\nWorkers repair a road (file photo).\n\n{THIRD}"
    assert select_lead(text, 3) == [FIRST, SECOND, THIRD]


def test_text_wrapped_into_lines_is_joined_back() -> None:
    """A sentence broken into lines by the page's markup is one lead sentence."""
    text = (
        "Photos\n\nwhich were released online and are making the rounds on social media,\n\n"
        "show the actress looking stunning in new photos.\n\nShe thanked her fans."
    )
    assert select_lead(text, 1) == [
        "Photos which were released online and are making the rounds on social media,"
        " show the actress looking stunning in new photos."
    ]


def test_daily_mail_byline_junk_is_skipped_in_tokenised_text() -> None:
    """Tokenised "by . daily mail reporter . published : … | . updated : …" is not lead."""
    text = (
        "by . daily mail reporter . published : 10:33 est , 3 april 2013 . | . updated :"
        " 12:58 est , 3 april 2013 . A cafe owner has laid down a challenge to diners with"
        " a gut-busting meal . Olly taylor , 27 , is offering his version of the feast ."
    )
    assert select_lead(text, 2) == [
        "A cafe owner has laid down a challenge to diners with a gut-busting meal .",
        "Olly taylor , 27 , is offering his version of the feast .",
    ]


def test_tokenised_caption_is_skipped() -> None:
    """A caption sentence pointing at a picture ("( pictured )") is not the lead."""
    text = (
        "Teaching assistant phil smith , 25 , ( pictured ) died after a fall . A teaching"
        " assistant who forgot his keys on a night out died after climbing through a window ."
    )
    assert select_lead(text, 1) == [
        "A teaching assistant who forgot his keys on a night out died after climbing through"
        " a window ."
    ]


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("", 2, []),
        (BODY, 0, []),
        (f"{FIRST}", 3, [FIRST]),
        ("Breaking news\n\nShort one.", 1, ["Breaking news"]),
    ],
)
def test_lead_edge_cases(text: str, count: int, expected: list[str]) -> None:
    """No text gives no lead; a text of only fragments still gives its first sentences."""
    assert select_lead(text, count) == expected


_PIECES = st.sampled_from(
    [
        FIRST, SECOND, THIRD, "By Jane Doe", "KABUL:", "(pictured)", "Headline here", "\n\n",
        "\n", "Mr.", "U.S.", "“", "”", "?", ".", " ", "Editor's note:", "which", "Short.",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECES, max_size=30).map(" ".join) | st.text(max_size=200),
    st.integers(min_value=0, max_value=4),
    st.none() | st.sampled_from(["Headline here", "Council backs budget"]),
)
def test_lead_sentences_appear_in_the_text_in_order(
    text: str, count: int, title: str | None
) -> None:
    """Every lead sentence is text of the article, and they come in the article's order."""
    lead = select_lead(text, count, title=title)
    assert len(lead) <= count
    flat = " ".join(text.split())
    position = 0
    for sentence in lead:
        assert sentence
        found = flat.find(sentence, position)
        assert found >= 0, sentence
        position = found + len(sentence)


def test_seed_lead_is_right_even_before_the_body_is_cleaned(seed_dir: Path) -> None:
    """On the raw seed page text, the lead still skips the date line, captions and dateline."""
    raw = (seed_dir / "000_68f7f3e877c79acb.txt").read_text("utf-8")
    lead = select_lead(raw, 2, title="Taliban FM meets Ahmad Massoud’s son, Ismail Khan in Iran")
    assert lead[0].startswith("The Taliban’s foreign minister said on Monday he held talks")
    assert lead[1].startswith("Massoud’s Panjshir Valley forces provided the last resistance")


def test_story_starts_below_the_headline_where_the_description_opens() -> None:
    """A teaser of another story above the headline is passed over when the paragraph below
    the headline opens as the page's description does."""
    text = (
        "Night mode is an automatic setting that takes advantage of the new wide camera.\n\n"
        "Scissor keyboard MacBook Pro due next year\n\n"
        "Apple plans to release a new 13-inch MacBook Pro with a scissor switch keyboard in "
        "the first half of 2020, according to industry sources."
    )
    description = (
        "Apple plans to release a new 13-inch MacBook Pro with a scissor switch keyboard in "
        "the first half of 2020,..."
    )
    title = "Scissor keyboard MacBook Pro due next year"
    assert select_lead(text, 1, title=title, description=description)[0].startswith("Apple plans")
    assert select_lead(text, 1, title=title)[0].startswith("Night mode")


def test_bracketed_label_before_the_first_sentence_is_not_the_story() -> None:
    """'[Exclusive] The minister …': the label is a kicker, the sentence is the lead."""
    text = "[Exclusive] The minister resigned on Tuesday after a week of protests in the capital."
    assert select_lead(text, 1) == [
        "The minister resigned on Tuesday after a week of protests in the capital."
    ]
