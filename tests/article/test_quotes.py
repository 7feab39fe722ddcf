"""Direct quotes and their speakers, as a reader of the digest sees them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.article.quotes import find_quotes
from bot.models import Quote


def _only(text: str) -> Quote:
    quotes = find_quotes(text)
    assert len(quotes) == 1, quotes
    return quotes[0]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("“We will rebuild every school,” Muttaqi said.", "Muttaqi"),
        (
            "“We will rebuild every school,” said Jason Miller, a spokesman.",
            "Jason Miller",
        ),
        ("Jason Miller said: “We will rebuild every school.”", "Jason Miller"),
        (
            "Jason Miller told reporters, “We will rebuild every school.”",
            "Jason Miller",
        ),
        (
            "“We will rebuild every school,” according to Jason Miller.",
            "Jason Miller",
        ),
        (
            "According to Jason Miller, “we will rebuild every school.”",
            "Jason Miller",
        ),
        (
            "The ministry said in a statement: “We will rebuild every school.”",
            "The ministry",
        ),
        (
            "Jason Miller wrote on Twitter: “We will rebuild every school.”",
            "Jason Miller",
        ),
        ("Jason Miller tweeted: “We will rebuild every school.”", "Jason Miller"),
        ("Jason Miller added, “We will rebuild every school.”", "Jason Miller"),
        (
            "“We will rebuild every school,” Sen. Claire McCaskill (D-Mo.) said Friday.",
            "Claire McCaskill",
        ),
        (
            "“We will rebuild every school,” Victor Cha, a Korea scholar at the Center"
            " for Strategic and International Studies, said in an interview.",
            "Victor Cha",
        ),
        (
            "In a statement, her senior policy adviser, Jake Sullivan, said: “We will rebuild every"
            " school in the valley.”",
            "Jake Sullivan",
        ),
        (
            "Foreign Minister Amir Khan Muttaqi said: “We will rebuild every school.”",
            "Amir Khan Muttaqi",
        ),
        ('"We will rebuild every school," Muttaqi said.', "Muttaqi"),
        ("“We will rebuild every school.” — Pamela Padilla", "Pamela Padilla"),
        ("Ryan will meet Trump, Spicer said, adding, “We will rebuild every school.”", "Spicer"),
    ],
)
def test_quote_is_attributed_to_its_speaker(text: str, speaker: str) -> None:
    """Each common attribution form, before or after the quote, names the speaker."""
    quote = _only(text)
    assert quote.speaker is not None
    assert quote.speaker.removeprefix("The ").lower() == speaker.removeprefix("The ").lower()


def test_quote_has_no_marks_and_no_trailing_comma() -> None:
    """The quote text is the words inside the marks, without the comma before the attribution."""
    quote = _only("“We will rebuild every school,” Muttaqi said.")
    assert quote.text == "We will rebuild every school"


def test_surname_is_resolved_to_the_full_name_introduced_earlier() -> None:
    """'Muttaqi said' after 'Foreign Minister Amir Khan Muttaqi' names Amir Khan Muttaqi."""
    text = (
        "Foreign Minister Amir Khan Muttaqi arrived in Tehran on Sunday.\n\n"
        "“We met commander Ismail Khan and other Afghans in Iran,” Muttaqi said."
    )
    assert _only(text).speaker == "Amir Khan Muttaqi"


@pytest.mark.parametrize(
    ("intro", "speaker"),
    [("Donald Trump spoke in Ohio on Monday.\n\n", "Donald Trump"), ("", "Trump")],
)
def test_title_is_dropped_from_the_speaker(intro: str, speaker: str) -> None:
    """'President Trump' is Donald Trump when the article introduced him, else Trump."""
    text = intro + "“The wall will be built and paid for,” President Trump said."
    assert _only(text).speaker == speaker


def test_pronoun_is_resolved_to_the_nearest_fitting_person() -> None:
    """'she said' names the woman named before, not a man named in between."""
    text = (
        "Ms. Jennifer Roberts, the mayor, met the police chief on Friday.\n\n"
        "Mr. Kerr Putney was also there.\n\n"
        "“We need the video released before the weekend,” she said."
    )
    assert _only(text).speaker == "Jennifer Roberts"


def test_speaker_is_none_when_unknown() -> None:
    """A quote nobody is credited with has no speaker rather than a guess."""
    text = "The river rose overnight. “Nobody expected the river to rise this fast.”"
    assert _only(text).speaker is None


def test_interrupted_quote_is_one_quote_by_one_speaker() -> None:
    """“A,” she said. “B.” is a single quote."""
    quote = _only(
        "“The plan failed in every county,” Warren said. “It must be replaced before winter.”"
    )
    assert quote.text == "The plan failed in every county. It must be replaced before winter."
    assert quote.speaker == "Warren"


def test_two_speakers_in_one_paragraph_stay_apart() -> None:
    """“A,” he said. “B,” she replied. gives two quotes by two people."""
    quotes = find_quotes(
        "“The plan failed in every county,” Warren said. “It worked in most of the towns,”"
        " Stumpf replied."
    )
    assert {(q.speaker) for q in quotes} == {"Warren", "Stumpf"}


def test_quote_over_several_paragraphs_is_one_quote() -> None:
    """A paragraph that opens a quote without closing it continues in the next one."""
    text = (
        "Clinton said: “We will not stop until the work is done.\n\n"
        "“Every family deserves a fair chance at a good job.”\n\n"
        "The crowd cheered."
    )
    quote = _only(text)
    assert quote.text.startswith("We will not stop")
    assert quote.text.endswith("a good job.")
    assert quote.speaker == "Clinton"


def test_next_paragraph_quote_continues_the_previous_speaker() -> None:
    """An unattributed quote paragraph right after a quote is by the same speaker."""
    text = (
        "“We met commander Ismail Khan and Ahmad Massoud in Iran,” Muttaqi said in the video.\n\n"
        "“It’s home to all, and we do not create insecurity for anyone.”"
    )
    assert [q.speaker for q in find_quotes(text)] == ["Muttaqi", "Muttaqi"]


@pytest.mark.parametrize(
    "text",
    [
        "The front has denounced the Taliban, calling it an “illegitimate government” ever since.",
        "Its most revered figure, known as the “Lion of Panjshir”, was killed in 2001.",
        "She appeared on “The Steve Harvey Morning Show With Guests” on Tuesday.",
        "He wrote the book “The Art of the Deal in Modern Times” in 1987.",
        "Supporters waved banners with the slogan “make America great again for all” outside.",
        "The so-called “meddling case” was heard on Monday by five judges.",
    ],
)
def test_epithets_scare_quotes_and_titles_are_not_key_quotes(text: str) -> None:
    """Short epithets, scare quotes, slogans and titles of works are not quotes of anyone."""
    assert find_quotes(text) == []


def test_apostrophes_never_open_or_close_a_quote() -> None:
    """Massoud’s, ’90s and rock ’n’ roll stay inside the one quote they belong to."""
    text = "“Massoud’s men loved the ’90s and rock ’n’ roll more than anyone,” Khan said."
    quote = _only(text)
    assert quote.text == "Massoud’s men loved the ’90s and rock ’n’ roll more than anyone"


def test_single_quotes_inside_a_quote_are_nested() -> None:
    """‘Single quotes’ inside double quotes are part of the outer quote."""
    text = "“You say you ‘accept responsibility’ but blame the tellers again,” Merkley said."
    quote = _only(text)
    assert quote.text == "You say you ‘accept responsibility’ but blame the tellers again"


def test_quotes_with_a_named_speaker_come_first() -> None:
    """The digest shows the first quotes: named speakers and substance before the rest; an
    unnamed source ("a resident said") is credited as described, after the names."""
    text = (
        "“Nobody expected the river to rise this fast,” a resident said.\n\n"
        "“The levee will hold through the night and the next day,” Mayor Jane Doe said.\n\n"
        "“We are sending every pump we have to the east side,” Doe added."
    )
    quotes = find_quotes(text)
    assert [q.speaker for q in quotes] == ["Jane Doe", "Jane Doe", "a resident"]


_WORDS = re.compile(r"\w+")


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(word in it for word in needle)


_PIECES = [*"abc XYZ.,:;!?'\"“”‘’«»—\n", "said", " Smith ", "\n\n", "we will win ", "he "]
# Text made of quote marks, words, attributions and paragraph breaks in any order.
_NEWSY = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(_NEWSY)
def test_quotes_are_words_of_the_input_in_order(text: str) -> None:
    """No input breaks find_quotes; every quote is 5+ of the input's own words, in order."""
    source = _WORDS.findall(text)
    for quote in find_quotes(text):
        words = _WORDS.findall(quote.text)
        assert len(words) >= 5
        assert _is_subsequence(words, source)
        assert quote.text == quote.text.strip()
        assert quote.speaker is None or quote.speaker.strip()


def test_pronoun_never_resolves_to_a_name_inside_the_quote() -> None:
    """'She' after a quote is someone named before it, not a place the quote names."""
    text = (
        "Maria Lopez has run the restaurant for ten years.\n\n"
        "“We used to compete with Pizza Express on every street corner here,” she said."
    )
    assert find_quotes(text) == [
        Quote("We used to compete with Pizza Express on every street corner here", "Maria Lopez")
    ]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("“The talks will resume after the holiday next week,” officials said.", "officials"),
        (
            "“The border crossing stays closed until further notice,” the ministry said.",
            "the ministry",
        ),
        (
            "Round-up of the polls - HuffPollster: “The race has tightened in the last week.”",
            "HuffPollster",
        ),
    ],
)
def test_groups_and_colon_introductions_are_speakers(text: str, speaker: str) -> None:
    """'Officials said' and 'the ministry said' credit a speaker; so does 'Name: “…”'."""
    assert [q.speaker for q in find_quotes(text)] == [speaker]


def test_pull_quote_repeating_a_body_quote_is_not_a_second_quote() -> None:
    """A pull-quote set apart from the story repeats a quote already shown with its speaker."""
    quote = "We will not stop until every family has a safe home"
    text = (
        f"The mayor, Ana Ruiz, spoke on Monday. “{quote},” Ruiz said.\n\n"
        f"“{quote}”\n\nThe plan goes to the council in May."
    )
    assert find_quotes(text) == [Quote(quote, "Ana Ruiz")]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # A capitalised "States" is part of a name, not the verb "states".
        (
            "Rubio said the United States “must increase our efforts at home and abroad.”",
            "Rubio",
        ),
        # After a determiner a reporting word is a noun: "her state" names no speaker.
        (
            "McCaskill said a lot of voters in her state would find it “very hard to look"
            " past that label.”",
            "McCaskill",
        ),
        # A verb in the infinitive has no subject of its own.
        (
            "Nance said she would like Trump to explain his stance, since there is “no"
            " question he is the most pro-life of the two.”",
            "Nance",
        ),
        # "X said … and added": the subject of the verb it is joined to.
        (
            "Lazar said he welcomed extradition and added, “I will plead guilty, no problem.”",
            "Lazar",
        ),
        # A participle (", adding that") takes the subject of the main clause.
        (
            "Cruz said the race is close, adding that it is why Donald Trump “relentlessly"
            " attacks us and ignores the others.”",
            "Cruz",
        ),
        # A full stop inside the closing mark ends the sentence: the next one is new.
        (
            "Morris says the campaign will “compete vigorously for the nomination in every"
            " state.” O’Malley’s move was first reported by MSNBC.",
            "Morris",
        ),
        # The quote runs on in the sentence and the attribution closes it.
        (
            "A cashier who “steals a handful of twenty dollar bills” is held accountable,"
            " Warren said.",
            "Warren",
        ),
        (
            "“Many would consider that an embarrassment for her” if she lost, said David"
            " Wasserman, an elections analyst.",
            "David Wasserman",
        ),
        # A run of titles is no name: the person follows it.
        (
            "Former Republican presidential candidate Jeb Bush said: “What Trump did was so"
            " insensitive to everyone.”",
            "Jeb Bush",
        ),
        # "said the judge": the person introduced with that title or appositive.
        (
            "U.S. District Judge Gonzalo Curiel unsealed the records on Friday.\n\n"
            "“The integrity of these court proceedings is at stake,” the judge wrote.",
            "Gonzalo Curiel",
        ),
        (
            "Richard Cross, a GOP speechwriter, left the party in May.\n\n"
            "“I may yet have to vote for her this fall,” the GOP speechwriter said.",
            "Richard Cross",
        ),
        # An outlet's name before a person's is the affiliation.
        (
            "“The bullying and the greed and the showing off,” Fox's Chris Wallace said.",
            "Chris Wallace",
        ),
        # A campaign, an office or a family named after a person speaks as a body.
        (
            "“Neither the speaker nor his team has asked for it,” Ryan’s campaign said.",
            "Ryan’s campaign",
        ),
        ("“His fortunes have changed a great deal since then,” the Times wrote.", "the Times"),
        # "with X -ing": the absolute construction names the participle's subject.
        (
            "Supporters punched a protester, with Trump reportedly yelling: “Get him the hell"
            " out of here right now!”",
            "Trump",
        ),
        # A time adverbial opening the sentence is not its subject.
        (
            "Hours later, Trump returned the compliment, telling Reuters, “Sheldon and I have"
            " been friends for a long time.”",
            "Trump",
        ),
        # A sentence ending in a colon introduces the quote: its subject speaks.
        (
            "Kaine has adopted the stance common among Catholics in office: “I am pro-life in"
            " my personal life.”",
            "Kaine",
        ),
        (
            "One user wrote that he was moved. Another said: “I can watch the comedy for years.”",
            "Another",
        ),
        # An unnamed source is credited as the article describes it.
        (
            "“One of my criteria was whether they support the nominee,” said one district"
            " GOP leader.",
            "one district GOP leader",
        ),
    ],
)
def test_news_attribution_conventions(text: str, speaker: str) -> None:
    """Each convention of news English names the speaker it credits, not a place, an outlet
    or a name inside the clause."""
    assert _only(text).speaker == speaker


def test_a_pronoun_is_never_resolved_to_a_place() -> None:
    """'he said' stands for the person named before, not for a place the article writes
    after "in" or "from" (a two-word place looks like a first and last name)."""
    text = (
        "Dan Tripp runs the group's field office.\n\n"
        "The group has spent heavily in South Carolina this month.\n\n"
        "“We will go toe to toe with him in every county,” he said."
    )
    assert _only(text).speaker == "Dan Tripp"


def test_a_new_sentence_after_a_closed_quote_is_not_its_attribution() -> None:
    """“….” then 'Iowa, she said, was …' starts a new statement: the quote before it goes
    on from the speaker of the one before, and Iowa is nobody."""
    text = (
        "Ann Lee met the voters on Monday. “Maybe we are just trying to let the bully learn,”"
        " Tripp said. “We are trying to show some mercy.” Iowa, she said, was “where we have"
        " a chance to go toe to toe.”"
    )
    mercy = [q for q in find_quotes(text) if "show some mercy" in q.text]
    assert [q.speaker for q in mercy] == ["Tripp"]
