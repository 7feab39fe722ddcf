"""How digests, search results and alerts read in Telegram's HTML."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.digest import Digest, DigestItem, compose_digest
from bot.delivery.render import (
    BLOCK_SEPARATOR,
    digest_blocks,
    format_local_time,
    render_alert,
    render_digest,
    render_item,
    render_nothing_new,
    render_search_results,
)
from bot.delivery.telegram_html import (
    MAX_MESSAGE_UNITS,
    escape_text,
    fit_markup,
    link,
    to_plain_text,
    utf16_units,
)
from bot.models import Quote, StoredArticle
from tests.support.telegram_markup import parse_telegram_html

KARACHI = ZoneInfo("Asia/Karachi")
NOW = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)  # 15:00 in Karachi


def html_problems(markup: str) -> list[str]:
    """What Telegram would reject in the markup (empty when it is fine)."""
    return parse_telegram_html(markup)[1]


def stored(
    title: str = "Quake strikes northern Afghanistan",
    *,
    id: str = "a1",
    feed: str = "Dawn",
    link: str = "https://example.com/quake",
    published: datetime = NOW - timedelta(hours=1),
    lead: tuple[str, ...] = ("A strong earthquake struck on Tuesday.", "Twelve people died."),
    quotes: tuple[Quote, ...] = (),
    text: str = "",
) -> StoredArticle:
    """A stored article with readable defaults."""
    return StoredArticle(
        id=id,
        feed=feed,
        title=title,
        link=link,
        published=published,
        fetched=published,
        text=text or " ".join(lead),
        lead=lead,
        quotes=quotes,
    )


def item(article: StoredArticle, also_in: tuple[str, ...] = ()) -> DigestItem:
    """A digest item for one article."""
    return DigestItem(article=article, also_in=also_in, article_ids=(article.id,))


# --- one item ---------------------------------------------------------------------------------


def test_item_shows_bold_linked_title_source_time_lead_and_quote() -> None:
    """An item reads: bold linked title, source · local time, lead, quote — speaker."""
    article = stored(
        quotes=(Quote("We are sending every team we have to the area", "Zabihullah Mujahid"),)
    )
    rendered = render_item(item(article), tz=KARACHI, now=NOW)
    assert rendered.splitlines() == [
        '<b><a href="https://example.com/quake">Quake strikes northern Afghanistan</a></b>',
        "Dawn · 14:00",
        "A strong earthquake struck on Tuesday. Twelve people died.",
        "<i>“We are sending every team we have to the area”</i> — Zabihullah Mujahid",
    ]


def test_a_quote_already_in_the_lead_is_not_shown_again_the_next_one_is() -> None:
    """When the lead's first sentence is itself the key quote, the item shows the next key
    quote instead of repeating the same words (and none when there is no other)."""
    said = "You're going to see a lot more games streamed from the cloud"
    lead = (f"'{said},' says Jack Buser, director for games.", "The service opens in May.")
    other = Quote("Players will not need a console any more", "Jack Buser")
    for quotes, expected in (
        ((Quote(said, "Jack Buser"), other), other.text),
        ((Quote(said),), None),
    ):
        plain = to_plain_text(
            render_item(item(stored(lead=lead, quotes=quotes)), tz=KARACHI, now=NOW)
        )
        assert plain.count("going to see a lot more games") == 1
        if expected is not None:
            assert f"“{expected}” — Jack Buser" in plain
        else:
            assert "“" not in plain


def test_a_quote_the_lead_does_not_show_is_kept() -> None:
    """A quote that is only in a lead sentence the chat does not show (lead 1) is shown."""
    lead = ("The council met on Monday.", "'We will rebuild every home,' the mayor said.")
    quote = Quote("We will rebuild every home", "Ana Ruiz")
    article = stored(lead=lead, quotes=(quote,))
    one = to_plain_text(render_item(item(article), tz=KARACHI, now=NOW, lead_sentences=1))
    two = to_plain_text(render_item(item(article), tz=KARACHI, now=NOW, lead_sentences=2))
    assert "“We will rebuild every home” — Ana Ruiz" in one
    assert two.count("We will rebuild every home") == 1


@pytest.mark.parametrize(
    ("speaker", "shown"),
    [
        ("Aspects. Beth Meacham", None),
        ("The 56-year-old", None),
        ("the official", None),
        ("he", None),
        ("a spokesman for the ministry", "a spokesman for the ministry"),
        ("officials", "officials"),
        ("the ministry", "the ministry"),
        ("two senior officials", "two senior officials"),
        ("a resident", None),
        ("Sending Every Team", None),
        ("Jack Buser, director for games", "Jack Buser"),
        ("Beth Meacham", "Beth Meacham"),
        ("Dr. Ana Ruiz", "Dr. Ana Ruiz"),
        ("J. K. Rowling", "J. K. Rowling"),
        ("Bank of England", "Bank of England"),
        ("The Associated Press", "The Associated Press"),
        ("Ursula von der Leyen", "Ursula von der Leyen"),
        ("NASA", "NASA"),
    ],
)
def test_a_speaker_is_shown_only_when_it_is_a_name(speaker: str, shown: str | None) -> None:
    """A speaker shown is a person's or an organisation's name, or a group the article
    credits ("officials", "the ministry"), or nothing: no sentence fragment glued to a name,
    no description of one person in place of a name, no name the quote itself speaks of."""
    article = stored(quotes=(Quote("We are sending every team we have", speaker),))
    line = to_plain_text(render_item(item(article), tz=KARACHI, now=NOW)).splitlines()[-1]
    if shown is None:
        assert line == "“We are sending every team we have”"
    else:
        assert line == f"“We are sending every team we have” — {shown}"


def test_feed_strings_are_escaped_everywhere() -> None:
    """Markup in a title, lead, quote, speaker or feed name shows as text, never as tags."""
    article = stored(
        '<script>alert("x")</script> & <b>bold</b>',
        feed="<i>Feed</i>",
        lead=("1 < 2 & 3 > 2 said <a href='x'>him</a>.",),
        quotes=(Quote('Say "<b>no</b>" & leave', "<u>Someone</u>"),),
        link='https://example.com/?a=1&b="2"',
    )
    rendered = render_item(item(article, also_in=("<s>Other</s>",)), tz=KARACHI, now=NOW)
    assert html_problems(rendered) == []
    assert "&lt;script&gt;" in rendered
    assert 'href="https://example.com/?a=1&amp;b=&quot;2&quot;"' in rendered
    plain = to_plain_text(rendered)
    assert '<script>alert("x")</script> & <b>bold</b>' in plain
    assert "<s>Other</s>" in plain


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://example.com/a",
        "//example.com",
        "",
        "https://",
    ],
)
def test_only_http_links_are_kept(link: str) -> None:
    """A title whose link is not http(s) is shown bold but unlinked."""
    rendered = render_item(item(stored(link=link)), tz=KARACHI, now=NOW)
    assert rendered.startswith("<b>Quake strikes northern Afghanistan</b>")
    assert "href" not in rendered


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        (datetime(2024, 3, 5, 4, 30, tzinfo=UTC), "09:30"),
        (datetime(2024, 3, 4, 19, 30, tzinfo=UTC), "00:30"),  # already 5 March in Karachi
        (datetime(2024, 3, 4, 18, 30, tzinfo=UTC), "4 Mar"),
        (datetime(2023, 12, 31, 12, 0, tzinfo=UTC), "31 Dec 2023"),
    ],
)
def test_time_is_local_to_the_chat(published: datetime, shown: str) -> None:
    """Today's items show the chat's local HH:MM, older ones a short date."""
    assert format_local_time(published, tz=KARACHI, now=NOW) == shown


@pytest.mark.parametrize(("sentences", "expected"), [(1, 1), (2, 2), (5, 2), (0, 1)])
def test_lead_shows_one_or_two_sentences(sentences: int, expected: int) -> None:
    """The chat's lead setting picks one or two sentences (never none, never more than two)."""
    article = stored(lead=("First one.", "Second one.", "Third one."))
    rendered = render_item(item(article), tz=KARACHI, now=NOW, lead_sentences=sentences)
    lead_line = rendered.splitlines()[2]
    assert lead_line == " ".join(["First one.", "Second one."][:expected])


def test_long_fields_are_cut_at_a_word_with_an_ellipsis() -> None:
    """A very long lead and quote end at a whole word followed by "…"."""
    words = " ".join(f"word{i}" for i in range(400))
    said = " ".join(f"said{i}" for i in range(400))
    article = stored(lead=(words,), quotes=(Quote(said, "Ana Speaker"),))
    lines = render_item(item(article), tz=KARACHI, now=NOW).splitlines()
    assert lines[2].endswith("…")
    assert re.fullmatch(r"(word\d+ )*word\d+…", lines[2])
    assert len(lines[2]) <= 480
    assert lines[3].endswith("…”</i> — Ana Speaker")


def test_item_without_lead_shows_the_start_of_the_text() -> None:
    """An article stored without a lead still shows its opening."""
    article = stored(lead=(), text="Opening words of the body. More after that.")
    assert render_item(item(article), tz=KARACHI, now=NOW).splitlines()[2].startswith("Opening")


def test_also_in_names_the_other_feeds() -> None:
    """A folded story names the other feeds that carried it."""
    rendered = render_item(item(stored(), also_in=("Reuters", "BBC Urdu")), tz=KARACHI, now=NOW)
    assert rendered.splitlines()[1] == "Dawn · 14:00 · also in: Reuters, BBC Urdu"


# --- whole digests ----------------------------------------------------------------------------


def _many(count: int, lead_chars: int = 400) -> list[StoredArticle]:
    return [
        stored(
            f"Story {i} headline",
            id=f"s{i}",
            feed=f"Feed {i % 5}",
            link=f"https://example.com/{i}",
            published=NOW - timedelta(minutes=i),
            lead=((f"alpha{i} beta{i} gamma{i} " * 100)[:lead_chars],),
        )
        for i in range(count)
    ]


def test_digest_has_a_header_with_count_and_since() -> None:
    """The first message opens with "Your digest · N new since HH:MM" in the chat's time."""
    digest = compose_digest(_many(3), max_items=10)
    since = datetime(2024, 3, 5, 3, 0, tzinfo=UTC)
    (message,) = render_digest(digest, tz=KARACHI, now=NOW, since=since)
    assert message.splitlines()[0] == "<b>Your digest</b> · 3 new since 08:00"


def test_a_capped_digest_says_how_many_more_there_were() -> None:
    """Stories beyond the chat's max items are counted at the end."""
    digest = compose_digest(_many(12), max_items=5)
    messages = render_digest(digest, tz=KARACHI, now=NOW)
    assert messages[-1].endswith("<i>…and 7 more, kept for your next digest.</i>")
    assert "12 new" in messages[0]


def test_long_digest_splits_between_items_with_the_header_once() -> None:
    """Forty long items take several messages; each fits, no item is cut, the header comes once."""
    digest = compose_digest(_many(40), max_items=40)
    messages = render_digest(digest, tz=KARACHI, now=NOW)
    assert len(messages) > 1
    assert all(utf16_units(m) <= MAX_MESSAGE_UNITS for m in messages)
    assert sum(m.count("Your digest") for m in messages) == 1
    assert messages[0].startswith("<b>Your digest</b>")
    for message in messages:
        for block in message.split(BLOCK_SEPARATOR):
            assert html_problems(block) == []
    items = [b for m in messages for b in m.split(BLOCK_SEPARATOR) if b.startswith("<b><a")]
    assert len(items) == 40


def test_an_item_too_big_for_a_message_is_cut_safely() -> None:
    """An item longer than a message is shortened with its tags closed."""
    article = stored("&" * 3000, lead=("<" * 3000,), quotes=(Quote(">" * 3000, "&" * 100),))
    rendered = render_item(item(article), tz=KARACHI, now=NOW)
    assert utf16_units(rendered) <= MAX_MESSAGE_UNITS
    assert html_problems(rendered) == []
    assert rendered.startswith('<b><a href="https://example.com/quake">&amp;&amp;')


def test_emoji_count_twice_toward_the_limit() -> None:
    """Astral characters count as two UTF-16 units, so a message of emoji stays under 4096 units."""
    markup = "<b>" + "😀" * 3000 + "</b>"
    fitted = fit_markup(markup, MAX_MESSAGE_UNITS)
    assert utf16_units(fitted) <= MAX_MESSAGE_UNITS
    assert len(fitted) < 2100
    assert fitted.endswith("…</b>")


def test_nothing_new_is_one_line() -> None:
    """An empty digest, when wanted, is one line naming the local time."""
    since = datetime(2024, 3, 5, 3, 0, tzinfo=UTC)
    assert render_nothing_new(since=since, tz=KARACHI, now=NOW) == "Nothing new since 08:00."


# --- properties -------------------------------------------------------------------------------

_NASTY = st.sampled_from(
    ["<", ">", "&", '"', "'", "&amp;", "<b>", "</a>", "😀", "👩‍👩‍👧", "\n", " ", "𝕏"]
)
_TEXT = st.lists(st.one_of(st.text(max_size=20), _NASTY), max_size=20).map("".join)
_LINKS = st.one_of(
    st.just("https://example.com/a?b=1&c=<2>"),
    st.just("javascript:alert(1)"),
    _TEXT.map(lambda t: "https://example.com/" + t),
    _TEXT,
)


@st.composite
def _articles(draw: st.DrawFn) -> list[StoredArticle]:
    articles = []
    for i in range(draw(st.integers(0, 8))):
        articles.append(
            StoredArticle(
                id=f"id{i}",
                feed=draw(st.one_of(st.sampled_from(["Dawn", "BBC Urdu", "Reuters"]), _TEXT)),
                title=draw(_TEXT),
                link=draw(_LINKS),
                published=NOW - timedelta(minutes=draw(st.integers(0, 60 * 24 * 400))),
                fetched=NOW,
                text=draw(_TEXT),
                lead=tuple(draw(st.lists(_TEXT, max_size=3))),
                quotes=tuple(
                    Quote(q, s)
                    for q, s in draw(st.lists(st.tuples(_TEXT, st.none() | _TEXT), max_size=2))
                ),
            )
        )
    return articles


@settings(max_examples=60, deadline=None)
@given(
    _articles(),
    st.integers(1, 10),
    st.integers(1, 2),
    st.sampled_from([MAX_MESSAGE_UNITS, 600, 200]),
    st.sampled_from(["Asia/Karachi", "UTC", "America/St_Johns", "Pacific/Kiritimati"]),
)
def test_rendered_digests_fit_are_valid_and_lose_no_text(
    articles: list[StoredArticle], cap: int, lead: int, max_units: int, zone: str
) -> None:
    """Every chunk is within the limit and valid Telegram HTML; chunks join to the whole text."""
    tz = ZoneInfo(zone)
    digest = compose_digest(articles, max_items=cap)
    since = NOW - timedelta(hours=7)
    chunks = render_digest(
        digest, tz=tz, now=NOW, lead_sentences=lead, since=since, max_units=max_units
    )
    whole = BLOCK_SEPARATOR.join(
        digest_blocks(digest, tz=tz, now=NOW, lead_sentences=lead, since=since, max_units=max_units)
    )
    assert chunks
    for chunk in chunks:
        assert utf16_units(chunk) <= max_units
        shown, problems = parse_telegram_html(chunk)
        assert problems == []
        assert shown == to_plain_text(chunk)
    assert BLOCK_SEPARATOR.join(to_plain_text(c) for c in chunks) == to_plain_text(whole)


@settings(max_examples=100, deadline=None)
@given(_TEXT, st.integers(10, 400))
def test_fitting_markup_keeps_it_valid_and_within_the_limit(text: str, max_units: int) -> None:
    """Cutting escaped, nested markup anywhere leaves balanced tags and whole entities."""
    markup = (
        "<b>"
        + link(escape_text(text), "https://example.com/x?a=1&b=2")
        + "</b>\n<i>"
        + escape_text(text)
        + "</i>"
    )
    fitted = fit_markup(markup, max_units)
    assert utf16_units(fitted) <= max_units
    assert html_problems(fitted) == []
    assert fit_markup(fitted, max_units) == fitted


# --- search results and alerts ----------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A search hit as the engine returns one."""

    title: str
    link: str
    feed: str
    published: datetime
    snippet: Sequence[tuple[str, bool]]


def test_search_results_number_hits_and_bold_the_matched_words() -> None:
    """A page of results: header with range and query, then numbered hits with bold matches."""
    hits = [
        Hit(
            "Floods in <Sindh>",
            "https://example.com/f",
            "Dawn",
            datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
            (("Heavy ", False), ("floods", True), (" hit Sindh & Punjab", False)),
        ),
        Hit(
            "Rain again",
            "https://example.com/r",
            "BBC Urdu",
            NOW,
            (("more ", False), ("floods", True)),
        ),
    ]
    (message,) = render_search_results(hits, query="floods", tz=KARACHI, now=NOW, offset=5, total=9)
    blocks = message.split(BLOCK_SEPARATOR)
    assert blocks[0] == "<b>Results 6–7 of 9</b> for “floods”"
    assert blocks[1].splitlines() == [
        '6. <b><a href="https://example.com/f">Floods in &lt;Sindh&gt;</a></b>',
        "Dawn · 1 Mar",
        "Heavy <b>floods</b> hit Sindh &amp; Punjab",
    ]
    assert blocks[2].splitlines()[1] == "BBC Urdu · today"
    assert html_problems(message) == []


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ('"game streaming service"', '"game streaming service"'),
        ("“game streaming service”", "“game streaming service”"),
        ('flood "prime minister"', 'flood "prime minister"'),
        ("floods", "“floods”"),
    ],
)
def test_search_header_shows_the_query_once_without_nested_quotes(query: str, shown: str) -> None:
    """A phrase search shows the query as typed, once: never “"..."” quotes inside quotes."""
    hit = Hit("Streaming", "https://example.com/s", "Wire", NOW, (("game", True),))
    for hits in ([hit], []):
        (message,) = render_search_results(hits, query=query, tz=KARACHI, now=NOW, total=1)
        header = to_plain_text(message.split(BLOCK_SEPARATOR)[0])
        assert header.count(shown) == 1
        assert not re.search(r"[“\"][“\"]|[”\"][”\"]", header), header


def test_no_results_says_so_and_suggests_broader_words() -> None:
    """An empty page tells the user nothing matched and how to widen the search."""
    (message,) = render_search_results([], query="<zzz>", tz=KARACHI, now=NOW)
    assert message.startswith("Nothing found for “&lt;zzz&gt;”.")
    assert "broader" in message


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(_TEXT, _TEXT, st.lists(st.tuples(_TEXT, st.booleans()), max_size=6)), max_size=12
    ),
    _TEXT,
)
def test_search_pages_fit_and_are_valid(
    raw: list[tuple[str, str, list[tuple[str, bool]]]], query: str
) -> None:
    """Any hits and query render to valid messages within the limit."""
    hits = [Hit(t, "https://example.com/" + f, f, NOW, tuple(s)) for t, f, s in raw]
    for message in render_search_results(hits, query=query, tz=KARACHI, now=NOW, total=len(hits)):
        assert utf16_units(message) <= MAX_MESSAGE_UNITS
        assert html_problems(message) == []


def test_alert_names_its_words_and_shows_the_story() -> None:
    """A keyword alert is one message: the alert's words, then the story as in a digest."""
    message = render_alert(stored(), words="quake <Afghanistan>", tz=KARACHI, now=NOW)
    lines = message.splitlines()
    assert lines[0] == "🔔 <b>Alert</b>: quake &lt;Afghanistan&gt;"
    assert lines[1].startswith('<b><a href="https://example.com/quake">')
    assert html_problems(message) == []


@settings(max_examples=25, deadline=None)
@given(_articles(), _TEXT)
def test_alerts_always_fit_one_message(articles: list[StoredArticle], words: str) -> None:
    """Whatever the article, an alert is one valid message within the limit."""
    for article in articles:
        message = render_alert(article, words=words, tz=KARACHI, now=NOW)
        assert utf16_units(message) <= MAX_MESSAGE_UNITS
        assert html_problems(message) == []


def test_empty_digest_still_renders_its_header() -> None:
    """Rendering an empty digest gives one header message (the caller decides whether to send)."""
    assert render_digest(Digest(items=()), tz=KARACHI, now=NOW) == ["<b>Your digest</b> · 0 new"]
