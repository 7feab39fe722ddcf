"""Hostile inputs that already held when the bot was attacked: kept here so they keep holding.

XML entity bombs and external entities in feeds, absurd nesting in pages, markup injected
through every field a digest shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.delivery.digest import DigestItem
from bot.delivery.render import render_item
from bot.ingest.entry import ReadJob, ReadSettings, read_entry
from bot.ingest.feeds import parse_feed
from bot.models import Quote, StoredArticle

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Bomb</title>
<item><title>&lol9;</title><link>https://news.test/1</link><guid>1</guid></item>
</channel></rss>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>Leak</title>
<item><title>Leak &secret;</title><link>https://news.test/2</link><guid>2</guid>
<description>&secret;</description></item>
</channel></rss>"""


def test_an_xml_entity_bomb_is_never_expanded() -> None:
    """A billion laughs: the feed parses without growing; no title holds the expansion."""
    parsed = parse_feed(BILLION_LAUGHS, "https://news.test/feed.xml")
    assert all(len(entry.title or "") < 10_000 for entry in parsed.entries)


def test_an_external_entity_never_reads_a_local_file() -> None:
    """XXE: /etc/passwd is not read into any field."""
    parsed = parse_feed(XXE, "https://news.test/feed.xml")
    for entry in parsed.entries:
        for field in (entry.title, entry.summary, entry.content):
            assert "root:" not in (field or "")


def test_a_page_nested_a_hundred_thousand_deep_is_read_without_a_crash() -> None:
    """100 000 nested elements: read_entry returns a result (page or feed text), no error."""
    page = "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>"
    job = ReadJob(
        url="https://news.test/deep",
        title="Deep",
        page=page.encode(),
        page_content_type="text/html",
        page_problem=None,
        feed_html="<p>The feed's own text about the deep page, long enough to keep.</p>",
        settings=ReadSettings(),
    )
    assert read_entry(job).source in {"page", "feed"}


def test_markup_in_every_shown_field_is_escaped() -> None:
    """Title, feed name, lead, quote and speaker cannot add tags or links to a digest."""
    evil = '</b><a href="tg://resolve?domain=evil">click</a><script>x</script>'
    article = StoredArticle(
        id="evil",
        feed=f"Feed {evil}",
        title=f"Title {evil}",
        link="https://news.test/evil",
        published=NOW,
        fetched=NOW,
        text=f"Body {evil}",
        lead=(f"Lead {evil}.",),
        quotes=(Quote(text=f"Quote words are here {evil}", speaker=f"Speaker {evil}"),),
    )
    shown = render_item(DigestItem(article), tz=ZoneInfo("UTC"), now=NOW)
    assert "<script" not in shown
    assert '<a href="tg://' not in shown
    assert shown.count("<a href=") == 1  # only the title's own link
