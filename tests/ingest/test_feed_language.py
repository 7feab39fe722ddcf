"""The language a feed declares reaches its articles, checked against their text like a
page's own declaration."""

from __future__ import annotations

import json

import pytest

from bot.ingest.entry import ReadJob, ReadSettings, read_entry
from bot.ingest.feeds import parse_feed

GERMAN = (
    "<p>Die Bundesregierung hat am Mittwoch einen Entwurf für das neue Heizungsgesetz "
    "vorgelegt. Nach Angaben des Ministeriums sollen Eigentümer mehr Zeit für den Austausch "
    "alter Anlagen bekommen.</p><p>Die Förderung wird für Familien mit kleinem Einkommen "
    "erhöht, und die Verbände der Wohnungswirtschaft rechnen mit höheren Mieten.</p>"
)
PAGE = (
    "<!doctype html><html><head><title>Heizungsgesetz</title></head><body><article>"
    f"<h1>Heizungsgesetz</h1>{GERMAN * 3}</article></body></html>"
)


def _rss(language: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Nachrichten'
        f"</title><link>https://example.org/</link><language>{language}</language>"
        "<item><title>Heizungsgesetz</title><link>https://example.org/a</link>"
        "<guid>a</guid></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_rss("de-DE"), "de"),
        (_rss("x-default"), None),
        (
            b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
            b' xml:lang="ja"><title>t</title><id>urn:f</id><updated>2024-01-01T00:00:00Z</updated>'
            b"<entry><title>e</title><id>urn:e</id><link href='https://example.org/e'/>"
            b"<updated>2024-01-01T00:00:00Z</updated></entry></feed>",
            "ja",
        ),
        (
            json.dumps(
                {
                    "version": "https://jsonfeed.org/version/1.1",
                    "title": "t",
                    "language": "fr-CA",
                    "items": [{"id": "1", "url": "https://example.org/1", "content_text": "x"}],
                }
            ).encode(),
            "fr",
        ),
    ],
)
def test_entries_carry_the_language_their_feed_declares(body: bytes, code: str | None) -> None:
    """RSS <language>, Atom xml:lang and JSON Feed's language, as ISO 639-1 codes."""
    (entry,) = parse_feed(body, "https://example.org/feed").entries
    assert entry.language == code


def _job(*, language: str | None, page: bytes | None = None, text: str = GERMAN) -> ReadJob:
    return ReadJob(
        url="https://example.org/a",
        title="Heizungsgesetz",
        page=page,
        page_content_type="text/html" if page else None,
        page_problem=None if page else "the entry has no link",
        feed_html=text,
        settings=ReadSettings(),
        language=language,
    )


def test_a_german_feeds_entry_is_german() -> None:
    """A feed declaring German, its entry's text German: the article is German."""
    assert read_entry(_job(language="de")).summary.article.language == "de"


def test_an_entry_too_short_to_detect_keeps_its_feeds_language() -> None:
    """Two words cannot be told apart by the detector; the feed's word is all there is."""
    assert (
        read_entry(_job(language="de", text="<p>Kurz gesagt.</p>")).summary.article.language == "de"
    )
    assert (
        read_entry(_job(language=None, text="<p>Kurz gesagt.</p>")).summary.article.language is None
    )


def test_a_feed_declaring_english_over_german_text_is_overridden() -> None:
    """A feed whose <language> is a template's "en": the German text's own words win."""
    assert read_entry(_job(language="en")).summary.article.language == "de"


def test_a_page_declaring_nothing_takes_its_feeds_language() -> None:
    """The page has no lang attribute; the feed's declaration (borne out) applies to it."""
    read = read_entry(_job(language="de", page=PAGE.encode()))
    assert read.source == "page"
    assert read.summary.article.language == "de"
