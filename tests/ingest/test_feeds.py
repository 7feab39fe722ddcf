"""Parsing feed documents: real-world feeds against their expected output, JSON Feed, identity."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.feeds import ParseLimits, entry_identity, hash_content, parse_feed
from bot.ingest.links import canonical_link
from tests.conftest import CORPUS

FEEDS = CORPUS / "feeds"
RSS_PARSER_OUTPUTS = sorted((FEEDS / "rss-parser/output").glob("*.json"))
FEED_RS_EXPECTED = sorted(FEEDS.glob("feed-rs/*/*.serde.json"))
_TAG = re.compile(r"<[^>]*>")


def plain(text: str | None) -> str | None:
    """Text as a reader sees it: tags dropped, entities decoded, blanks collapsed."""
    if text is None:
        return None
    return " ".join(html.unescape(_TAG.sub("", text)).split()) or None


def to_second(iso: str) -> datetime:
    """An ISO time, to the second (feedparser keeps no fractions)."""
    return datetime.fromisoformat(iso).replace(microsecond=0)


@pytest.mark.parametrize("output", RSS_PARSER_OUTPUTS, ids=lambda p: p.stem)
def test_real_world_feeds_match_rss_parsers_expected_output(output: Path) -> None:
    """Titles, links, GUIDs, dates and counts agree with rss-parser's expected results."""
    source = next((FEEDS / "rss-parser/input").glob(output.stem + ".*"))
    expected = json.loads(output.read_bytes().decode("utf-8", "replace"))["feed"]
    base = "https://feeds.example/" + source.name
    feed = parse_feed(source.read_bytes(), base, limits=ParseLimits(max_entries=1_000))
    items = expected["items"]
    assert len(feed.entries) == len(items)
    if "\ufffd" not in (expected.get("title") or ""):
        assert feed.title == plain(expected.get("title"))
    for item, entry in zip(items, feed.entries, strict=True):
        # rss-parser reads Latin-1 feeds as UTF-8; where its output has U+FFFD ours is right
        if "\ufffd" not in (item.get("title") or ""):
            assert entry.title == plain(item.get("title"))
        if item.get("link"):
            assert entry.link == urljoin(base, item["link"].strip())
        if item.get("guid"):
            assert entry.guid == item["guid"].strip()
        if item.get("isoDate") and entry.published is not None:
            assert entry.published == to_second(item["isoDate"])


@pytest.mark.parametrize(
    "expected_file", FEED_RS_EXPECTED, ids=lambda p: p.name[: -len(".serde.json")]
)
def test_real_world_feeds_match_feed_rs_expected_output(expected_file: Path) -> None:
    """Counts, titles, links and dates agree with feed-rs's expected models."""
    stem = expected_file.name[: -len(".serde.json")]
    source = next(p for p in expected_file.parent.glob(stem + ".*") if p != expected_file)
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    base = "https://feeds.example/" + source.name
    feed = parse_feed(source.read_bytes(), base)
    assert len(feed.entries) == len(expected["entries"])
    assert feed.title == plain((expected.get("title") or {}).get("content"))
    for item, entry in zip(expected["entries"], feed.entries, strict=True):
        assert entry.title == plain((item.get("title") or {}).get("content"))
        links = [canonical_link(urljoin(base, link["href"])) for link in item.get("links", [])]
        if links and entry.link is not None:
            assert canonical_link(entry.link) in links
        when = item.get("published") or item.get("updated")
        if when and entry.published is not None:
            assert entry.published == to_second(when)


def test_relative_links_resolve_against_the_feed_url() -> None:
    """Entry links given relative to the feed become absolute."""
    feed = parse_feed(
        (FEEDS / "rss-parser/input/gulp-atom.atom").read_bytes(),
        "https://github.com/gulpjs/gulp/releases.atom",
    )
    assert feed.entries[0].link == "https://github.com/gulpjs/gulp/releases/tag/v3.9.0"


@pytest.mark.parametrize(
    ("file", "title"),
    [
        ("miniflux/parser/testdata/urdu_UTF8.xml", "BBC News اردو - پاکستان"),
        ("miniflux/parser/testdata/encoding_WINDOWS-1251.xml", "iBash.Org.Ru"),
        ("miniflux/parser/testdata/encoding_ISO-8859-1.xml", "Golem.de"),
        ("miniflux/parser/testdata/rdf_UTF8.xml", "heise online News"),
        ("miniflux/encoding/testdata/koi8r.xml", "Пример RSS ленты"),
        ("miniflux/encoding/testdata/iso-8859-1.xml", "Café"),
        ("miniflux/encoding/testdata/invalid-prolog.xml", "테스트 피드"),
    ],
)
def test_feeds_in_many_encodings_read_as_text(file: str, title: str) -> None:
    """Feeds in UTF-8, Windows-1251, Latin-1, KOI8-R and unknown labels decode to their text."""
    feed = parse_feed((FEEDS / file).read_bytes())
    assert (feed.title or "").startswith(title)
    texts = [feed.title, *(e.title for e in feed.entries), *(e.summary for e in feed.entries)]
    assert not any("\ufffd" in (text or "") for text in texts)


@pytest.mark.parametrize(
    ("file", "script"),
    [
        ("big5.xml", "\u4e00-\u9fff"),
        ("eucjp.xml", "\u3040-\u30ff"),
        ("euckr.xml", "\uac00-\ud7af"),
        ("gb2312.xml", "\u4e00-\u9fff"),
        ("koi8r.xml", "\u0400-\u04ff"),
        ("shiftjis.xml", "\u3040-\u30ff"),
        ("tis620.xml", "\u0e00-\u0e7f"),
        ("windows1255.xml", "\u0590-\u05ff"),
    ],
)
def test_feeds_declared_utf8_but_not_are_detected(file: str, script: str) -> None:
    """Feeds in a legacy charset wrongly declared UTF-8 are detected, not read as mojibake."""
    feed = parse_feed((FEEDS / "feedparser/illformed/chardet" / file).read_bytes())
    text = " ".join(
        t for t in [feed.title, *(x for e in feed.entries for x in (e.title, e.summary))] if t
    )
    assert re.search(f"[{script}]{{3}}", text)


@pytest.mark.parametrize(
    "file", sorted((FEEDS / "feedparser/illformed").rglob("*.xml")), ids=lambda p: p.name
)
def test_illformed_feed_yields_what_it_can_and_records_the_error(file: Path) -> None:
    """An ill-formed feed never raises; feedparser's bozo cases come with an error message."""
    annotations = {
        a["path"]: a
        for a in map(json.loads, (FEEDS / "feedparser/annotations.jsonl").read_text().splitlines())
    }
    expect = annotations[str(file.relative_to(FEEDS / "feedparser"))]["expect"]
    feed = parse_feed(file.read_bytes(), "http://feeds.example/feed.xml")
    if re.match(r"bozo\b", expect):
        assert feed.error is not None
        assert feed.error.startswith("ill-formed feed")


def test_corrupted_ampersands_still_give_the_link() -> None:
    """A link with bare ampersands in a broken feed is recovered whole."""
    feed = parse_feed(
        (FEEDS / "feedparser/illformed/rss_item_link_corrupted_ampersands.xml").read_bytes()
    )
    assert feed.entries[0].link == "http://link/get?a=1&b=2"
    assert feed.error is not None


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"<html><body>Not a feed</body></html>", b"plain text", b"\x00\x01\x02\xff"],
)
def test_documents_that_are_not_feeds_say_so(body: bytes) -> None:
    """Empty bodies, web pages and junk give no entries and an error, never an exception."""
    feed = parse_feed(body, "http://feeds.example/feed.xml", "text/html")
    assert feed.entries == ()
    assert feed.error is not None


def test_a_body_naming_a_local_file_is_not_opened() -> None:
    """feedparser is given a stream, so a body that is a path is not read from disk."""
    feed = parse_feed(b"/etc/passwd", None, "application/xml")
    assert feed.entries == ()
    assert feed.title is None


def test_json_feed_entries_are_read() -> None:
    """JSON Feed (by content type or a leading brace) gives entries with their fields."""
    feed = parse_feed((FEEDS / "feed-rs/jsonfeed/jsonfeed_example_1.json").read_bytes())
    assert feed.title == "Daring Fireball"
    assert feed.link == "https://daringfireball.net/"
    first = feed.entries[0]
    assert first.guid is not None
    assert first.link is not None
    assert first.link.startswith("https://")
    assert first.published is not None
    assert first.published.tzinfo is UTC
    assert first.content


def test_json_feed_fields_and_fallbacks() -> None:
    """Plain-text content is escaped to HTML, authors joined, dates normalised to UTC."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Example",
        "home_page_url": "https://example.org/",
        "items": [
            {
                "id": 7,
                "url": "/posts/7?utm_source=x",
                "title": "Seven",
                "content_text": "a < b & c",
                "date_published": "2026-05-01T12:00:00+05:00",
                "authors": [{"name": "Ayesha"}, {"name": "Bilal"}],
            },
            {"id": "eight", "content_html": "<p>Eight</p>", "date_modified": "bogus"},
            "not an item",
        ],
    }
    feed = parse_feed(json.dumps(document).encode(), "https://example.org/feed.json")
    seven, eight = feed.entries
    assert seven.identity == "7"
    assert seven.link == "https://example.org/posts/7?utm_source=x"
    assert seven.content == "a &lt; b &amp; c"
    assert seven.author == "Ayesha, Bilal"
    assert seven.published == datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    assert eight.published is None
    assert eight.content == "<p>Eight</p>"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not a valid JSON Feed"),
        (b"[1, 2]", "not a valid JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1", "title": "x"}', "no items"),
    ],
)
def test_broken_json_feeds_are_reported(body: bytes, message: str) -> None:
    """Invalid JSON Feed documents give an error message, not an exception."""
    feed = parse_feed(body, None, "application/feed+json")
    assert message in (feed.error or "")


def test_unsafe_links_are_dropped() -> None:
    """Links that are not http(s) (javascript:, data:, mailto:) are not kept."""
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>javascript:alert(1)</link></item>
    <item><title>b</title><link>mailto:x@example.org</link></item>
    <item><title>c</title><link>https://example.org/c</link></item>
    </channel></rss>"""
    feed = parse_feed(rss, "https://example.org/feed.xml")
    assert [e.link for e in feed.entries] == [None, None, "https://example.org/c"]


def test_entries_and_strings_are_capped() -> None:
    """Only the first max_entries entries count, and long titles are cut."""
    items = "".join(f"<item><title>{'x' * 5000}</title><guid>g{n}</guid></item>" for n in range(50))
    rss = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    feed = parse_feed(rss, None, None, ParseLimits(max_entries=10, max_title_chars=100))
    assert len(feed.entries) == 10
    assert all(len(e.title or "") == 100 for e in feed.entries)


def test_capped_feed_keeps_its_latest_entries() -> None:
    """A feed listing oldest first keeps its newest entries when over the cap."""
    items = "".join(
        f"<item><guid>g{n}</guid><pubDate>{n + 1:02d} Jan 2026 10:00:00 GMT</pubDate></item>"
        for n in range(20)
    )
    rss = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    feed = parse_feed(rss, None, None, ParseLimits(max_entries=5))
    assert [e.guid for e in feed.entries] == ["g15", "g16", "g17", "g18", "g19"]


def test_identity_prefers_guid_then_canonical_link_then_content() -> None:
    """Identity is the GUID, else the link without tracking, else a content hash."""
    digest = hash_content("t", None, "s")
    assert entry_identity("urn:1", "https://a.example/x", digest) == "urn:1"
    assert entry_identity(None, "HTTPS://A.example:443/x?utm_source=rss#top", digest) == (
        "https://a.example/x"
    )
    assert entry_identity(None, None, digest) == f"sha256:{digest}"


def test_entries_without_guid_keep_their_identity_when_tracking_changes() -> None:
    """The same article linked with different tracking parameters is one entry."""
    template = (
        '<rss version="2.0"><channel><item><title>A</title><link>{}</link></item></channel></rss>'
    )
    first = parse_feed(template.format("https://news.example/a?utm_source=feed").encode())
    second = parse_feed(template.format("https://news.example/a?fbclid=123").encode())
    assert first.entries[0].identity == second.entries[0].identity == "https://news.example/a"


def test_content_hash_changes_with_the_content() -> None:
    """A changed summary changes the content hash but not the identity."""
    template = (
        '<rss version="2.0"><channel><item><guid>g1</guid><title>A</title>'
        "<description>{}</description></item></channel></rss>"
    )
    before = parse_feed(template.format("first version").encode()).entries[0]
    after = parse_feed(template.format("corrected version").encode()).entries[0]
    assert before.identity == after.identity
    assert before.content_hash != after.content_hash


def test_published_falls_back_to_updated_and_is_utc() -> None:
    """An entry with only an updated date uses it, converted to UTC."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <entry><id>1</id><title>x</title><updated>2026-03-01T10:00:00+02:00</updated></entry>
    <entry><id>2</id><title>y</title></entry></feed>"""
    first, second = parse_feed(atom).entries
    assert first.published == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert second.published is None


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Example.COM/a?utm_source=x&id=3&utm_medium=y", "https://example.com/a?id=3"),
        ("HTTP://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/a#section", "https://example.com:8443/a"),
        (
            "https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=rss",
            "https://example.com/a",
        ),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"),
        ("https://example.com/Path/Is/Kept?Q=Case", "https://example.com/Path/Is/Kept?Q=Case"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("  https://example.com/x  ", "https://example.com/x"),
    ],
)
def test_canonical_link_examples(url: str, canonical: str) -> None:
    """Tracking parameters, default ports and fragments go; case of path and query stays."""
    assert canonical_link(url) == canonical


_SEGMENT = st.text(alphabet="abcXYZ019-._~%", min_size=0, max_size=8)
_PARAM = st.one_of(
    st.sampled_from(["utm_source", "utm_campaign", "fbclid", "gclid", "mc_eid", "ref", "id", "p"]),
    _SEGMENT,
)
_URLS = st.builds(
    lambda scheme, host, port, path, params, fragment: (
        f"{scheme}://{host}{port}/{'/'.join(path)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + fragment
    ),
    st.sampled_from(["http", "https", "HTTPS", "Http"]),
    st.sampled_from(["example.com", "News.Example.ORG", "127.0.0.1", "[::1]", "a.b.c"]),
    st.sampled_from(["", ":80", ":443", ":8080", ":"]),
    st.lists(_SEGMENT, max_size=4),
    st.lists(st.tuples(_PARAM, _SEGMENT), max_size=5),
    st.sampled_from(["", "#", "#frag", "#a?b"]),
)


@given(_URLS)
def test_canonical_link_is_idempotent_and_drops_tracking(url: str) -> None:
    """Normalising twice changes nothing, and no tracking parameter or fragment survives."""
    once = canonical_link(url)
    assert canonical_link(once) == once
    assert "#" not in once
    assert not re.search(r"[?&](utm_\w*|fbclid|gclid|mc_eid|ref)=", once)


@given(st.text(max_size=80))
def test_canonical_link_is_idempotent_on_any_text(text: str) -> None:
    """Any string at all normalises without error, and idempotently."""
    once = canonical_link(text)
    assert canonical_link(once) == once


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_no_input_crashes_the_parser(body: bytes) -> None:
    """Arbitrary bytes parse to a ParsedFeed without raising."""
    parse_feed(body, "http://feeds.example/feed.xml")
    parse_feed(b"<rss><channel><item><title>" + body, None, "application/rss+xml")
    parse_feed(b'{"items": [' + body, None, "application/feed+json")
