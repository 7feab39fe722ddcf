"""The lead-accuracy metric as the corpus README defines it (v2), on the cases it names."""

from __future__ import annotations

import pytest

from eval.metrics import lead_matches, lead_matches_v2, tokens_v2, true_lead_v2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "ST. JOSEPH, Mich. (AP) — A man was charged Monday with killing his wife at home.",
            "A man was charged Monday with killing his wife at home.",
        ),
        (
            "Hong Kong (CNN Business) Shares in Tencent fell sharply on Tuesday after results.",
            "Shares in Tencent fell sharply on Tuesday after results.",
        ),
        (
            "KABUL: The Taliban said on Tuesday that they would open schools for girls.",
            "The Taliban said on Tuesday that they would open schools for girls.",
        ),
        (
            "Short kicker.\nSen. Joe Manchin (D-W.Va.) said on Tuesday that he would vote no.",
            "Sen. Joe Manchin (D-W.Va.) said on Tuesday that he would vote no.",
        ),
    ],
)
def test_true_lead_skips_short_sentences_and_agency_datelines(body: str, expected: str) -> None:
    """The true lead is the first sentence of eight tokens, without an agency dateline; a
    senator's party and state in brackets are not a dateline."""
    assert true_lead_v2(body) == expected


def test_cjk_characters_are_tokens_of_their_own() -> None:
    """Each CJK, kana or hangul character counts as one token; other words as \\w+ runs."""
    assert tokens_v2("日本語 abc 한국") == ["日", "本", "語", "abc", "한", "국"]


def test_lead_without_the_dateline_is_right_in_v2_only() -> None:
    """v1 marked a correct dateline-free lead wrong; v2 compares it with the true lead."""
    body = "ST. JOSEPH, Mich. (AP) — The Senate passed the bill late on Tuesday after a debate."
    lead = "The Senate passed the bill late on Tuesday after a debate."
    assert lead_matches_v2(lead, true_lead_v2(body) or "")
    assert not lead_matches(lead, body)


@pytest.mark.parametrize(
    ("predicted", "right"),
    [
        ("The Senate passed the bill late on Tuesday after a long debate.", True),
        # the reference splitter cut the true lead short: it is the prediction's opening
        ("The Senate passed the bill late on Tuesday after a long debate. R-W.Va. voted.", True),
        ("The House voted on Monday.", False),
        (
            "Senators spoke for hours on Tuesday about the bill and the long debate that followed"
            " in the chamber, where the vote was passed late.",
            False,
        ),
    ],
)
def test_lead_matches_v2(predicted: str, right: bool) -> None:
    """Right when it holds 80% of the true lead and is mostly it, or one opens the other."""
    truth = "The Senate passed the bill late on Tuesday after a long debate."
    assert lead_matches_v2(predicted, truth) is right


def test_lead_that_opens_a_true_lead_glued_to_the_next_sentence_is_right() -> None:
    """Annotated text without a space after a full stop makes one long true lead of two."""
    truth = "The Senate passed the bill late on Tuesday.It now goes to the House, where it stalls."
    assert lead_matches_v2("The Senate passed the bill late on Tuesday.", truth)
    assert not lead_matches_v2("The Senate passed.", truth)
