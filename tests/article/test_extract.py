"""Article main text: what the cleaning keeps and drops, on pages, on text, on hostile input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.article.clean import clean_inline, clean_paragraphs, clean_title
from bot.article.dates import parse_date
from bot.article.extract import extract_html, parse_text
from bot.article.summary import summarize
from bot.errors import InputError

BODY = [
    "The city council voted on Tuesday to expand the bus network to the northern suburbs.",
    "The plan adds six routes and will cost about $40 million over three years, officials said.",
    "“This is the biggest change to our buses in a generation,” said Mayor Ana Lopez.",
]


@pytest.mark.parametrize(
    "junk",
    [
        "Taliban's Foreign Minister speaks to the media in Iran. — Screengrab via Tolo News",
        "Protesters gather outside the parliament. - Photo: Reuters/Jane Doe",
        "President Joe Biden speaks at the White House. (AP Photo/Evan Vucci)",
        "The galaxy as seen by the telescope. (Image credit: NASA)",
        "Photo: Reuters",
        "Image credit: Getty Images",
        "By Jane Doe",
        "BY JOHN SMITH and MARY JONES, Associated Press",
        "Jane Doe, Reuters",
        "Reuters",
        "(Reporting by Jane Doe; Editing by John Smith)",
        "Published in Dawn, January 11th, 2022",
        "Published January 11, 2022",
        "Updated at 1:23 p.m.",
        "Last updated: 04 May, 2024",
        "04 May, 2024",
        "5 min read",
        "Read more: Alibaba poised to launch record-breaking listing",
        "RELATED: The 15 weirdest galaxies in our universe",
        "[Related: Salesforce keynote brings AI and protests]",
        "China furious at Macron for Hong Kong protest jibe [INSIGHT]",
        "Sign up for our free daily newsletter delivered to your inbox.",
        "Click here to subscribe to The Paradigm Newsletter",
        "Like this story? Share it with a friend!",
        "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.",
        "Thanks for signing up!",
        "Have a tip? Amy Kuperinsky may be reached at amy@example.com.",
        "Copyright © 2019 Example Media. All rights reserved.",
        "Advertisement",
        "Comments",
        "______________________________",
    ],
)
def test_cleaning_drops_what_is_not_article(junk: str) -> None:
    """Captions, credits, bylines, date lines, related links, prompts and furniture go."""
    assert clean_paragraphs([BODY[0], junk, *BODY[1:]]) == BODY


@pytest.mark.parametrize(
    "sentence",
    [
        "By Tuesday, the rebels had taken the city and the army had withdrawn to the south.",
        "Published reports said the company would sign up 10,000 new customers by June.",
        "The service has about 50 million subscribers, up from 30 million a year earlier.",
        "More than 200 people were evacuated after the river burst its banks.",
        "Updated figures released on Monday showed the economy grew 2.1% in the quarter.",
        "“We will follow the money wherever it leads,” the prosecutor told reporters.",
        "Photographers were kept away from the scene, witnesses said.",
        "Reuters reported on Monday that the deal was close to being signed.",
        "from django.conf import settings",
        "What happens next",
    ],
)
def test_cleaning_keeps_article_sentences(sentence: str) -> None:
    """Sentences that merely resemble furniture stay in the body."""
    assert clean_paragraphs([BODY[0], sentence, *BODY[1:]]) == [BODY[0], sentence, *BODY[1:]]


def test_cleaning_drops_repeated_headline_and_standfirst() -> None:
    """The headline and the standfirst repeated on top of the body are not body."""
    title = "City expands bus network to the north"
    dek = "Six new routes will cost $40 million."
    assert clean_paragraphs([title, dek, *BODY], title=title, description=dek) == BODY


def test_cleaning_keeps_a_first_paragraph_that_is_the_description() -> None:
    """A page whose description is its first paragraph keeps that paragraph."""
    assert clean_paragraphs(BODY, title="Bus plan", description=BODY[0]) == BODY


def test_cleaning_drops_a_sidebar_of_other_stories() -> None:
    """A list of other stories with dates and teasers after the article is cut."""
    sidebar = [
        "Editorial",
        "Rigging claims",
        "Updated 04 May, 2024",
        "Rigging claims",
        "The allegations are not new; most elections have been controversial.",
        "Gaza’s wasteland",
        "04 May, 2024",
        "Gaza’s wasteland",
        "SINCE the start of hostilities, Israel has put in ceaseless efforts to...",
        "Housing scams",
        "04 May, 2024",
        "THE story of illegal housing schemes is the story of greed...",
    ]
    assert clean_paragraphs([*BODY, *sidebar]) == BODY


def test_cleaning_keeps_a_list_inside_the_article() -> None:
    """Ingredients or steps at the end of an article are not a sidebar."""
    recipe = ["Ingredients", "- 8 ripe pears", "- 1 lemon", "- 1 tsp ginger", "- 1 jar honey"]
    assert clean_paragraphs([*BODY, *recipe]) == [*BODY, *recipe]


def test_cleaning_drops_a_list_of_links_after_a_label() -> None:
    """'You may also like...' and the headlines under it go; the article after it stays."""
    links = ["You may also like...", "Who will make the Rock Hall in 2020?", "Doobie Brothers live"]
    assert clean_paragraphs([*BODY[:2], *links, BODY[2]]) == BODY


def test_cleaning_normalises_inline_whitespace() -> None:
    """Runs of spaces, tabs, no-break and zero-width spaces become one space."""
    assert clean_paragraphs(["  The  council\u00a0voted\t on\u200b Tuesday.  "]) == [
        "The council voted on Tuesday."
    ]


PAGE = """<!doctype html><html><head><title>City expands bus network | Example News</title>
<meta property="og:site_name" content="Example News">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T08:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>City expands bus network</h1><p class="byline">By Jane Doe</p>
<figure><img src="bus.jpg"><figcaption>A bus in the city centre. Photo: Example/John Roe
</figcaption></figure>
<p>The city council voted on Tuesday to expand the bus network to the northern suburbs, adding
six routes that officials expect to carry 20,000 riders a day.</p>
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a></div>
<p>The plan   will cost about $40 million over three years, and the first routes open in
September, according to the transport department.</p>
<aside><h3>Related</h3><ul><li><a href="/a">Council approves budget</a></li>
<li><a href="/b">Tram line delayed again</a></li></ul></aside>
<p>“This is the biggest change to our buses in a generation,” said Mayor Ana Lopez, who
campaigned on better public transport for the outer districts.</p>
<div class="newsletter-signup"><p>Get the day's news in your inbox. Sign up now.</p></div>
</article><footer>© 2024 Example News</footer></body></html>"""


def test_page_gives_clean_body_and_metadata() -> None:
    """A page yields its headline, date and author, and a body of its three paragraphs."""
    article = extract_html(PAGE, url="https://example.com/bus")
    assert article.title == "City expands bus network"
    assert article.published == date(2024, 3, 5)
    assert article.author == "Jane Doe"
    assert [p[:20] for p in article.paragraphs] == [
        "The city council vot",
        "The plan will cost a",
        "“This is the biggest",
    ]
    for junk in ("Photo:", "Share on", "Related", "Council approves", "inbox", "By Jane", "©"):
        assert junk not in article.text


def test_page_body_has_paragraphs_separated_by_one_blank_line() -> None:
    """Paragraphs are separated by exactly one blank line, with no stray whitespace."""
    text = extract_html(PAGE.encode("utf-8")).text
    assert "\n\n\n" not in text
    assert all(p == p.strip() and "  " not in p and "\n" not in p for p in text.split("\n\n"))


def test_text_title_needs_a_blank_line_and_no_full_stop() -> None:
    """The first line is the title only when a blank line follows and it has no final stop."""
    assert parse_text("Bus plan approved\n\nThe council voted.").title == "Bus plan approved"
    assert parse_text("The council voted.\n\nIt was late.").title is None
    assert parse_text("Bus plan approved\nThe council voted.").title is None


@pytest.mark.parametrize(
    "text",
    [
        # one line, no final full stop (CNN/DailyMail texts end with a photo caption)
        "Police say the match can go ahead . The derby kicks off at 4pm in manchester\n",
        "Police say the match can go ahead at 4pm on Sunday\n\n",
        # a first line of more than 30 words is prose that lost its full stop, not a headline
        " ".join(["word"] * 31) + "\n\nThe second paragraph.",
    ],
)
def test_text_of_one_paragraph_or_a_long_first_line_keeps_all_its_words(text: str) -> None:
    """An article saved as one line without a final stop is body, never taken as the title."""
    article = parse_text(text)
    assert article.title is None
    assert article.text.split() == text.split()
    assert summarize(article, lead_sentences=1).lead


def test_text_date_line_becomes_the_date_and_leaves_the_body() -> None:
    """A 'Published ...' line gives the date and is not part of the text."""
    article = parse_text("Bus plan\n\nPublished March 5, 2024\nThe council voted on Tuesday.")
    assert article.published == date(2024, 3, 5)
    assert article.text == "The council voted on Tuesday."


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published January 11, 2022", date(2022, 1, 11)),
        ("Published in Dawn, January 11th, 2022", date(2022, 1, 11)),
        ("04 May, 2024", date(2024, 5, 4)),
        ("Jan. 3, 2019 at 10:00 AM", date(2019, 1, 3)),
        ("2020-02-29T10:00:00Z", date(2020, 2, 29)),
        ("February 30, 2021", None),
        ("Mayday 12, 2021", None),
    ],
)
def test_dates_as_pages_write_them(line: str, expected: date | None) -> None:
    """Dates written the usual ways are read; impossible dates are not."""
    assert parse_date(line) == expected


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Takeaways from the trial | CNN Politics", None, "Takeaways from the trial"),
        ("Court files expose spy work -- Sott.net", "Sott.net", "Court files expose spy work"),
        ("短缺药品保供稳价-新华网", "新华网", "短缺药品保供稳价"),
        ("Biden - Trump debate: what we learned", None, "Biden - Trump debate: what we learned"),
        ("Man bites dog - again", None, "Man bites dog - again"),
    ],
)
def test_title_loses_site_name(title: str, site: str | None, expected: str) -> None:
    """Site and section names appended to a headline go; a dash inside a headline stays."""
    assert clean_title(title, site) == expected


@pytest.mark.parametrize(
    ("title", "names", "expected"),
    [
        (
            "Dear Abby: He wants the economy seat - oregonlive.com",
            ["https://www.oregonlive.com/a"],
            "Dear Abby: He wants the economy seat",
        ),
        (
            "Hunter diagnosed with rare disease – The Sun",
            ["The Sun - Top Stories"],
            "Hunter diagnosed with rare disease",
        ),
        (
            "Go To the Actual Scene! - Jeongdong Theater",
            ["Jeongdong Theater"],
            "Go To the Actual Scene!",
        ),
        (
            "The Sun | Hunter diagnosed with a rare disease",
            ["The Sun"],
            "Hunter diagnosed with a rare disease",
        ),
        ("Apple - the company", ["Apple"], "Apple - the company"),
        ("Storm hits the coast - live updates", ["The Sun"], "Storm hits the coast - live updates"),
    ],
)
def test_title_loses_the_sources_own_name(title: str, names: list[str], expected: str) -> None:
    """A part joined to the headline that is the host, site or feed name goes; headline
    words that merely sit beside a dash stay."""
    assert clean_title(title, None, names) == expected


@pytest.mark.parametrize(
    "page",
    [
        b"",
        "   ",
        b"\x00\x01\x02\xff\xfe" * 200,
        "<html><body></body></html>",
        "<p>" * 5000 + "deep" + "</p>" * 5000,
        "<div>" * 100_000 + "text" + "</div>" * 100_000,
        "<html><body>" + "<table><tr><td>" * 3000 + "x" + "</td></tr></table>" * 3000,
        "<![CDATA[" + "A" * 10_000,
        "<?xml version='1.0' encoding='bogus'?><html><body><p>x</p></body></html>",
    ],
)
def test_hostile_pages_give_a_clear_error_or_an_article(page: str | bytes) -> None:
    """Empty, binary or absurdly nested pages never crash the extractor."""
    try:
        article = extract_html(page)
    except InputError as exc:
        message = str(exc)
        assert message
    else:
        assert article.text.strip()


def test_oversized_page_is_refused() -> None:
    """A page beyond the size cap is refused with a clear message, not read."""
    with pytest.raises(InputError, match="larger than"):
        extract_html(b"<p>x</p>" * 2_000_000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_extract_html_raises_only_input_error(page: str | bytes) -> None:
    """Whatever the input, extract_html returns an article or raises InputError."""
    try:
        article = extract_html(page)
    except InputError:
        return
    assert article.text == article.text.strip()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=30))
def test_cleaning_only_ever_removes_paragraphs(paragraphs: list[str]) -> None:
    """Cleaning keeps kept paragraphs in order, each non-empty and on one line."""
    kept = clean_paragraphs(paragraphs)
    flat = [clean_inline(p) for p in paragraphs]
    position = 0
    for paragraph in kept:
        assert paragraph
        assert "\n" not in paragraph
        position = flat.index(paragraph, position) + 1


def test_embedded_post_quoted_in_the_story_is_kept() -> None:
    """A tweet embedded in the article is part of the story, though wrapped as 'social'."""
    tweet = "Yes this is real and the state spent nearly half a million dollars on the campaign."
    page = PAGE.replace(
        '<div class="share-bar">',
        f'<div class="social-media-embed"><blockquote class="twitter-tweet"><p>{tweet}</p>'
        '— Jane Roe (@janeroe) November 18, 2019</blockquote></div><div class="share-bar">',
    )
    article = extract_html(page)
    assert tweet in article.text
    assert "Share on" not in article.text


def test_hover_card_of_links_does_not_run_into_the_sentence() -> None:
    """A span of links inside a paragraph (a person's hover card) is not read as text."""
    card = (
        '<span class="card"><a href="/p">Ilhan Omar</a><a href="/1">Budget vote stalls</a>'
        '<a href="/2">Progressives oppose funding bill</a><a href="/3">More stories</a></span>'
    )
    page = PAGE.replace("said Mayor Ana Lopez,", f"said Mayor <span>Ana Lopez{card}</span>,")
    text = extract_html(page).text
    assert "said Mayor Ana Lopez, who campaigned" in text
    assert "Budget vote" not in text


@pytest.mark.parametrize(
    "page_id",
    [
        "232a43fb15abde807427b2a7bf4f772e27b8760554370956d8291df4e8166dbf",  # <div>text<em>…<br>
        "287e4d9f4af31733aad6534aefb2bd00fb344ec8d6ebf1ac99dbc4d762da0ca4",  # <section>text<p>
    ],
)
def test_first_paragraph_written_loose_in_its_container_is_kept(corpus: Path, page_id: str) -> None:
    """A first paragraph set as its container's own text, not in a <p>, stays in the body
    (the extractor's fallback on these pages reads only <p>s and lines after <br>s)."""
    base = corpus / "extraction" / "zyte"
    row = next(
        json.loads(line)
        for line in (base / "truth.jsonl").open(encoding="utf-8")
        if json.loads(line)["id"] == page_id
    )
    first = row["articleBody"].split("\n")[0]
    text = extract_html((base / row["page"]).read_bytes(), url=row["url"]).text
    assert " ".join(first.split()[:25]) in " ".join(text.split())


def test_headline_worded_otherwise_than_the_title_is_not_body() -> None:
    """The page's <h1> opening the body is the headline, though <title> words it otherwise."""
    page = PAGE.replace(
        "<h1>City expands bus network</h1>",
        "<h1>Six new bus routes for the north, and riders ask: what took so long?</h1>",
    ).replace("</head>", '<meta property="og:title" content="City expands bus network"></head>')
    article = extract_html(page)
    assert article.title == "City expands bus network"
    assert article.paragraphs[0].startswith("The city council voted")


@pytest.mark.parametrize(
    ("dek", "is_standfirst"),
    [
        ("Six new routes will cost $40 million.", True),
        (
            "Welcome to the new bus network. While it looks familiar, the city's new routes "
            "move the needle in a big way. We spent the last several days riding every line "
            "and can say the council listened to riders this time around. Let's talk about it.",
            False,
        ),
    ],
)
def test_standfirst_is_short_and_a_long_described_opening_is_body(
    dek: str, is_standfirst: bool
) -> None:
    """Under the headline, a short dek that is the description goes; an opening paragraph of
    many sentences that the page also uses as its description stays."""
    title = "City expands bus network to the north"
    kept = clean_paragraphs([title, dek, *BODY], title=title, description=dek)
    assert kept == (BODY if is_standfirst else [dek, *BODY])


def test_standfirst_set_as_a_subheading_is_not_the_story() -> None:
    """A page's description repeated as an <h2> under the headline is its standfirst."""
    deck = "The September quarter earnings were not a complete disappointment for most companies."
    body = "The equity benchmark scaled a new all-time high in the morning trade on Wednesday. " * 3
    page = (
        f'<html><head><title>Markets on a high</title><meta name="description" content="{deck}">'
        f"</head><body><article><h1>Markets on a high</h1><h2>{deck}</h2>"
        f"<p>{body}</p><p>{body}</p></article></body></html>"
    )
    article = extract_html(page)
    assert deck not in article.text
    assert summarize(article, lead_sentences=1).lead[0].startswith("The equity benchmark")
