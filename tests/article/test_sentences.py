"""Sentence splitting: where news text ends a sentence and where it only looks as if it does."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.article.sentences import sentence_spans, split_sentences


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith and Mrs. Jones met Dr. Patel on Monday.",
        "The U.S. and U.K. governments signed the accord in Geneva.",
        "The talks began on Jan. 5 and ended in Sept. after a long recess.",
        "Gov. Kristi Noem and Sen. Mike Rounds toured the plant in St. Paul.",
        "Apple Inc. shares rose after the results on Tuesday.",
        "He was ranked No. 5 in the world before the injury.",
        "J. R. R. Tolkien wrote the book in Oxford.",
        "George W. Bush spoke in Dallas on Friday.",
        "Prices rose 3.5 percent, the fastest pace since 2008.",
        "He paused... then said he would stay in office.",
        "Details are at www.example.com and by mail to press.office@example.org today.",
        "“Stop,” he said, and the crowd fell silent.",
        "“Is it over?” asked the reporter, but nobody answered.",
        "“We won!” she shouted from the stage.",
        "A New York man pleaded guilty to threatening to kill U.S. Rep. Ilhan Omar, D-Minn.",
        "HAYWARD, Calif. (AP) — The Latest on a stabbing on a commuter train.",
        "The hearing is set for 10 a.m. Eastern time on Thursday.",
        "O prof. Carlos Nadalim apresenta uma loja incrível nos EUA.",
        "Nicht jedes Geschäftsmodell ist von Disruption bzw. Darwinismus bedroht.",
    ],
)
def test_a_sentence_is_never_cut_inside(text: str) -> None:
    """Abbreviations, initials, decimals, ellipses, addresses and quote marks do not end it."""
    assert split_sentences(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met officials in the U.S. The talks went well.",
            ["Mr. Smith met officials in the U.S.", "The talks went well."],
        ),
        (
            "Is this the end? Nobody knows! The vote is on Friday.",
            ["Is this the end?", "Nobody knows!", "The vote is on Friday."],
        ),
        (
            "“We face a crisis.” The next speaker disagreed.",
            ["“We face a crisis.”", "The next speaker disagreed."],
        ),
        (
            'He called it "a disaster." Others were kinder.',
            ['He called it "a disaster."', "Others were kinder."],
        ),
        (
            "Apple Inc. The company reported record sales.",
            ["Apple Inc.", "The company reported record sales."],
        ),
        (
            "The market fell 2.5 percent. Bonds rallied.",
            ["The market fell 2.5 percent.", "Bonds rallied."],
        ),
        (
            "Наши герои знают толк в еде. За их аккаунтами следят тысячи.",
            ["Наши герои знают толк в еде.", "За их аккаунтами следят тысячи."],
        ),
        ("今天天气很好。我们去公园吧！", ["今天天气很好。", "我们去公园吧！"]),
    ],
)
def test_sentences_end_where_they_end(text: str, expected: list[str]) -> None:
    """Full stops before a new sentence, ? and !, and a closing quote that ends a sentence."""
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "police say they have no objections to sunday 's derby . With plenty at stake ,"
            " fans may drink more .",
            [
                "police say they have no objections to sunday 's derby .",
                "With plenty at stake , fans may drink more .",
            ],
        ),
        (
            "the talks were held in the u.s. . The next round is in june .",
            ["the talks were held in the u.s. .", "The next round is in june ."],
        ),
        (
            "He said : `` oh ! I shot him . '' Bates was charged .",
            ["He said : `` oh !", "I shot him . ''", "Bates was charged ."],
        ),
        (
            "' I feel very blessed , ' miller said on wednesday . ' Very lucky ' . Skating on ,"
            " he smiled .",
            [
                "' I feel very blessed , ' miller said on wednesday .",
                "' Very lucky ' .",
                "Skating on , he smiled .",
            ],
        ),
        (
            "His plan ? To get the selfie . dr. jennifer melfi was his psychiatrist .",
            ["His plan ?", "To get the selfie .", "dr. jennifer melfi was his psychiatrist ."],
        ),
    ],
)
def test_tokenised_text_is_split_at_its_spaced_marks(text: str, expected: list[str]) -> None:
    """Research corpora space their punctuation and quotes ("team 's", " .", "``")."""
    assert split_sentences(text) == expected


def test_a_paragraph_break_always_ends_a_sentence() -> None:
    """A blank line ends a sentence even without a mark; a heading stays on its own."""
    text = "Budget talks stall\n\nThe council met on Monday\n\nIt adjourned without a vote."
    assert split_sentences(text) == [
        "Budget talks stall",
        "The council met on Monday",
        "It adjourned without a vote.",
    ]


def test_a_line_break_before_lower_case_continues_the_sentence() -> None:
    """Hard-wrapped text: a line that opens in lower case goes on with the sentence."""
    text = "Photos released online show the actress\nlooking stunning.\nShe thanked fans."
    assert split_sentences(text) == [
        "Photos released online show the actress\nlooking stunning.",
        "She thanked fans.",
    ]


_PIECES = st.sampled_from(
    [
        "Mr.", "U.S.", "Jan.", "No.", "J.", "3.5", "...", "…", "?", "!", ".", " .", "“", "”",
        '"', "'", "''", "``", "(", ")", "—", "Stop,”", "said.", "The", "the", "he", "Smith",
        "a.m.", "www.example.com.", "今天。", "Да.", "\n", "\n\n", " ", "  ", "x", "9",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map(" ".join) | st.text(max_size=200))
def test_sentences_are_the_text_in_order_and_cover_all_of_it(text: str) -> None:
    """Sentences are slices of the text, in order; joined, they hold all its non-space chars."""
    sentences = split_sentences(text)
    position = 0
    for sentence in sentences:
        assert sentence == sentence.strip()
        assert sentence
        found = text.find(sentence, position)
        assert found >= 0
        position = found + len(sentence)
    assert re.sub(r"\s", "", "".join(sentences)) == re.sub(r"\s", "", text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_spans_do_not_overlap(text: str) -> None:
    """Each sentence starts after the one before it ends."""
    spans = sentence_spans(text)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start
