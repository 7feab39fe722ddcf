"""Digest composition: which stories, folded how, in what order."""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.article.sentences import split_sentences
from bot.delivery.digest import (
    DIGEST_TEXT_CHARS,
    SAME_STORY_JACCARD,
    compose_digest,
    for_digest,
    group_stories,
    is_same_story,
    order_by_recency_and_feed,
    story_similarity,
)
from bot.delivery.digests import RecentMemo, Rendered
from bot.delivery.render import digest_blocks
from bot.models import Quote, StoredArticle

DATA = Path(__file__).parents[1] / "data"
PAIRS = json.loads((DATA / "story_pairs.json").read_text(encoding="utf-8"))
T0 = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)


def article(
    id: str,
    feed: str,
    title: str,
    lead: str = "",
    *,
    minutes: int = 0,
    quotes: tuple[Quote, ...] = (),
    text: str = "",
) -> StoredArticle:
    """A stored article published `minutes` after T0."""
    return StoredArticle(
        id=id,
        feed=feed,
        title=title,
        link=f"https://example.com/{id}",
        published=T0 + timedelta(minutes=minutes),
        fetched=T0 + timedelta(minutes=minutes + 1),
        text=text or lead,
        lead=(lead,) if lead else (),
        quotes=quotes,
    )


# --- the same-story rule on real news ------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _polnear(corpus: Path) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for name in ("polnear_train.jsonl", "polnear_dev.jsonl"):
        for line in (corpus / "quotes" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            paragraphs = [p for p in record["text"].split("\n\n") if p.strip()]
            if paragraphs and _words(paragraphs[0]) == _words(record["title"]):
                paragraphs = paragraphs[1:]
            record["lead"] = " ".join(split_sentences("\n\n".join(paragraphs[:3]))[:2])
            records[record["id"]] = record
    return records


@pytest.fixture(scope="module")
def polnear(corpus: Path) -> dict[str, dict[str, Any]]:
    """Real articles of seven US publishers, with a two-sentence lead each."""
    return _polnear(corpus)


@pytest.mark.parametrize("pair", PAIRS["polnear"], ids=lambda p: p["note"])
def test_labelled_publisher_pairs_fold_as_recorded(
    pair: dict[str, Any], polnear: dict[str, dict[str, Any]]
) -> None:
    """Two publishers' versions of one story fold together; related but different stories do not."""
    a, b = polnear[pair["a"]], polnear[pair["b"]]
    similarity = story_similarity(a["title"], a["lead"], b["title"], b["lead"])
    assert (similarity >= SAME_STORY_JACCARD) is pair["merged_at_threshold"], similarity


def test_no_different_stories_of_the_same_days_are_folded(
    polnear: dict[str, dict[str, Any]],
) -> None:
    """Of 900 articles by seven publishers, only pairs labelled one story reach the threshold."""
    same = {frozenset((p["a"], p["b"])) for p in PAIRS["polnear"] if p["same"]}
    by_day: dict[date, list[dict[str, Any]]] = {}
    for record in polnear.values():
        by_day.setdefault(date.fromisoformat(record["date"]), []).append(record)
    folded = []
    for day, records in by_day.items():
        nearby = records + by_day.get(day + timedelta(days=1), [])
        for i, a in enumerate(records):
            for b in nearby[i + 1 :]:
                if a["publisher"] == b["publisher"]:
                    continue
                similarity = story_similarity(a["title"], a["lead"], b["title"], b["lead"])
                if similarity >= SAME_STORY_JACCARD:
                    folded.append(frozenset((a["id"], b["id"])))
    assert folded
    assert set(folded) <= same


def _feed_entries(path: Path) -> list[tuple[str, str]]:
    parsed = feedparser.parse(path.read_bytes())
    entries = []
    for entry in parsed.entries:
        summary = re.sub(r"<[^>]+>", " ", html.unescape(entry.get("summary", "")))
        if entry.get("title"):
            entries.append((entry["title"], " ".join(split_sentences(summary)[:2])))
    return entries


NEWS_FEEDS = [
    "rss-parser/input/guardian.rss",
    "rss-parser/input/uolNoticias.rss",
    "rss-parser/input/heise.atom",
    "rss-parser/input/encoding.rss",
    "rss-parser/input/customfields.rss",
    "rss-parser/input/itunes-href.rss",
    "miniflux/parser/testdata/rdf_UTF8.xml",
    "miniflux/parser/testdata/encoding_ISO-8859-1.xml",
    "miniflux/parser/testdata/no_encoding_ISO-8859-1.xml",
    "miniflux/parser/testdata/urdu_UTF8.xml",
    "miniflux/parser/testdata/large_rss.xml",
]


@pytest.mark.parametrize("feed", NEWS_FEEDS)
def test_distinct_stories_of_a_real_news_feed_would_not_be_folded(corpus: Path, feed: str) -> None:
    """Any two different stories one real news feed carried stay apart, as if from two feeds."""
    same = [p for p in PAIRS["feeds"] if p["file"] == feed and p["same"]]
    entries = _feed_entries(corpus / "feeds" / feed)
    assert len(entries) >= 5
    for (title_a, lead_a), (title_b, lead_b) in itertools.combinations(entries, 2):
        if any(
            (title_a.startswith(p["a"]) and title_b.startswith(p["b"]))
            or (title_a.startswith(p["b"]) and title_b.startswith(p["a"]))
            for p in same
        ):
            continue
        similarity = story_similarity(title_a, lead_a, title_b, lead_b)
        assert similarity < SAME_STORY_JACCARD, (title_a, title_b, similarity)


@pytest.mark.parametrize("pair", PAIRS["feeds"], ids=lambda p: p["note"])
def test_labelled_feed_pairs_fold_as_recorded(corpus: Path, pair: dict[str, Any]) -> None:
    """Two versions of one story in a real feed reach the threshold."""
    entries = _feed_entries(corpus / "feeds" / pair["file"])
    firsts = [e for e in entries if e[0].startswith(pair["a"])]
    seconds = [e for e in entries if e[0].startswith(pair["b"]) and e is not firsts[0]]
    (title_a, lead_a), (title_b, lead_b) = firsts[0], seconds[-1]
    similarity = story_similarity(title_a, lead_a, title_b, lead_b)
    assert (similarity >= SAME_STORY_JACCARD) is pair["merged_at_threshold"], similarity


WIRE_SAME = [
    (
        "Earthquake of magnitude 6.1 strikes northern Afghanistan",
        "A magnitude 6.1 earthquake struck northern Afghanistan on Tuesday, killing at least 12 "
        "people in Baghlan province, officials said.",
        "Deadly 6.1 quake hits Afghanistan's Baghlan province",
        "At least 12 people were killed when a 6.1-magnitude earthquake hit Baghlan province in "
        "northern Afghanistan on Tuesday, provincial officials said.",
    ),
    (
        "Central bank raises interest rate to 22% to curb inflation",
        "Pakistan's central bank raised its key interest rate by 100 basis points to 22% on "
        "Monday, citing persistent inflation.",
        "State Bank of Pakistan lifts key rate to record 22%",
        "The State Bank of Pakistan raised its key interest rate to a record 22% on Monday, "
        "saying inflation remained persistently high.",
    ),
]

WIRE_DIFFERENT = [
    (
        "Earthquake of magnitude 6.1 strikes northern Afghanistan",
        "A magnitude 6.1 earthquake struck northern Afghanistan on Tuesday, killing at least 12 "
        "people in Baghlan province, officials said.",
        "Floods in Afghanistan's Baghlan province leave hundreds homeless",
        "Flash floods swept through villages in Baghlan province on Friday after heavy rain, "
        "destroying hundreds of homes, the Taliban administration said.",
    ),
    (
        "Central bank raises interest rate to 22% to curb inflation",
        "Pakistan's central bank raised its key interest rate by 100 basis points to 22% on "
        "Monday, citing persistent inflation.",
        "Pakistan's inflation eases to 24% in September",
        "Consumer prices in Pakistan rose 24% from a year earlier in September, down from 27% in "
        "August, the statistics bureau said on Monday.",
    ),
]


@pytest.mark.parametrize(("title_a", "lead_a", "title_b", "lead_b"), WIRE_SAME)
def test_two_outlets_rewording_one_wire_story_are_one_story(
    title_a: str, lead_a: str, title_b: str, lead_b: str
) -> None:
    """Two outlets' rewrites of one event fold into one item."""
    a = article("a", "Dawn", title_a, lead_a)
    b = article("b", "Reuters", title_b, lead_b, minutes=20)
    assert is_same_story(a, b)


@pytest.mark.parametrize(("title_a", "lead_a", "title_b", "lead_b"), WIRE_DIFFERENT)
def test_two_stories_on_one_topic_stay_two_items(
    title_a: str, lead_a: str, title_b: str, lead_b: str
) -> None:
    """Different events in the same place or on the same subject are not folded."""
    a = article("a", "Dawn", title_a, lead_a)
    b = article("b", "Reuters", title_b, lead_b, minutes=20)
    assert not is_same_story(a, b)


# --- composition ------------------------------------------------------------------------------

QUAKE = WIRE_SAME[0]


def test_one_story_in_three_feeds_is_one_item_naming_the_others() -> None:
    """The earliest complete version is shown and the other feeds are listed as "also in"."""
    first = article("1", "Dawn", QUAKE[0], QUAKE[1], minutes=0)
    second = article("2", "Reuters", QUAKE[2], QUAKE[3], minutes=10)
    third = article("3", "BBC Urdu", QUAKE[0], QUAKE[1], minutes=30)
    other = article("4", "Dawn", *WIRE_SAME[1][:2], minutes=5)
    digest = compose_digest([third, other, second, first], max_items=10)
    folded = next(item for item in digest.items if item.article.id == "1")
    assert folded.also_in == ("Reuters", "BBC Urdu")
    assert sorted(folded.article_ids) == ["1", "2", "3"]
    assert digest.total == 2


def test_the_shown_version_is_the_most_complete_one() -> None:
    """A later version with a lead and a quote beats an earlier bare headline."""
    bare = StoredArticle(
        id="bare",
        feed="Wire",
        title=QUAKE[0],
        link="https://example.com/bare",
        published=T0,
        fetched=T0,
        text=QUAKE[1],
    )
    full = article("full", "Dawn", QUAKE[2], QUAKE[3], minutes=15, quotes=(Quote("x" * 30, "Y"),))
    (item,) = group_stories([bare, full])
    assert item.article.id == "full"
    assert item.also_in == ("Wire",)


def test_entries_of_one_feed_are_never_folded() -> None:
    """A feed's follow-up or second part on the same story is its own item."""
    one = article("1", "Dawn", QUAKE[0], QUAKE[1])
    two = article("2", "Dawn", QUAKE[0] + ": live updates", QUAKE[1], minutes=40)
    assert len(group_stories([one, two])) == 2


def test_a_prolific_feed_does_not_take_every_slot() -> None:
    """Each feed's newest story comes before any feed's second one."""
    busy = [article(f"b{i}", "Busy", f"Busy story number {i}", minutes=100 + i) for i in range(8)]
    quiet = [article("q1", "Quiet", "Quiet feed council budget", minutes=1)]
    rare = [article("r1", "Rare", "Rare feed harbour reopens", minutes=2)]
    digest = compose_digest(busy + quiet + rare, max_items=4)
    assert [i.article.id for i in digest.items] == ["b7", "r1", "q1", "b6"]
    assert digest.more == 6
    assert [i.article.id for i in digest.left_out][:2] == ["b5", "b4"]


def test_within_a_round_newer_stories_come_first() -> None:
    """Stories are newest first within each round of the feed rotation."""
    items = group_stories(
        [
            article("a", "A", "Harbour reopens after storm damage", minutes=5),
            article("b", "B", "Council approves school budget", minutes=50),
            article("c", "C", "Rail strike called off", minutes=20),
        ]
    )
    assert [i.article.id for i in order_by_recency_and_feed(items)] == ["b", "c", "a"]


def test_cap_says_how_many_more_there_were() -> None:
    """A digest capped at max_items counts the stories it left out."""
    titles = [
        "Harbour reopens after storm damage",
        "Council approves school budget",
        "Rail strike called off",
        "Museum returns looted bronzes",
        "Heatwave warning for the south",
        "Cricket board names new captain",
        "Power cuts to end by June",
    ]
    stories = [article(str(i), f"F{i}", title, minutes=i) for i, title in enumerate(titles)]
    digest = compose_digest(stories, max_items=5)
    assert len(digest.items) == 5
    assert digest.more == 2
    assert digest.total == 7


def test_an_article_given_twice_appears_once() -> None:
    """The same article id offered twice is one story."""
    one = article("x", "Dawn", "Harbour reopens after storm damage")
    assert compose_digest([one, one], max_items=5).total == 1


def test_max_items_below_one_is_refused() -> None:
    """A zero cap is a caller's mistake, not an empty digest."""
    with pytest.raises(ValueError, match="max_items"):
        compose_digest([], max_items=0)


_WORDS = ["quake", "flood", "bank", "rate", "harbour", "council", "strike", "storm", "vote", "poll"]


@st.composite
def _articles(draw: st.DrawFn) -> list[StoredArticle]:
    result = []
    for i in range(draw(st.integers(0, 14))):
        words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6))
        result.append(
            article(
                f"id{i}",
                draw(st.sampled_from(["A", "B", "C", "D"])),
                " ".join(words),
                " ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=8))),
                minutes=draw(st.integers(0, 600)),
            )
        )
    return result


@settings(max_examples=60, deadline=None)
@given(_articles(), st.integers(1, 12))
def test_digest_never_loses_or_repeats_an_article(articles: list[StoredArticle], cap: int) -> None:
    """Every article is in exactly one item, shown or left out, and items never exceed the cap."""
    digest = compose_digest(articles, max_items=cap)
    ids = [i for item in digest.items + digest.left_out for i in item.article_ids]
    assert sorted(ids) == sorted({a.id for a in articles})
    assert len(digest.items) <= cap
    for item in digest.items + digest.left_out:
        assert item.article.feed not in item.also_in
        assert item.article_ids[0] == item.article.id


# --- the same groups as comparing every pair -----------------------------------------------


def _groups_of_every_pair(articles: list[StoredArticle]) -> set[frozenset[str]]:
    """Single linkage by comparing every pair with ``is_same_story``: what the index must equal."""
    unique = list({a.id: a for a in articles}.values())
    group = {a.id: {a.id} for a in unique}
    for i, a in enumerate(unique):
        for b in unique[:i]:
            if is_same_story(a, b) and group[a.id] is not group[b.id]:
                merged = group[a.id] | group[b.id]
                for member in merged:
                    group[member] = merged
    return {frozenset(g) for g in group.values()}


def _groups(articles: list[StoredArticle]) -> set[frozenset[str]]:
    return {frozenset(item.article_ids) for item in group_stories(articles)}


@st.composite
def _alike_articles(draw: st.DrawFn) -> list[StoredArticle]:
    """Articles from a small vocabulary (many alike, some without a lead) in a few feeds."""
    words = st.sampled_from([*_WORDS, "ferry", "budget", "river", "mayor", "court", "school"])
    result = []
    for i in range(draw(st.integers(0, 40))):
        title = " ".join(draw(st.lists(words, min_size=1, max_size=8)))
        lead = " ".join(draw(st.lists(words, max_size=12)))
        result.append(
            article(f"id{i}", draw(st.sampled_from("ABCD")), title, lead,
                    minutes=draw(st.integers(0, 90)))
        )  # fmt: skip
    return result


@settings(max_examples=150, deadline=None)
@given(_alike_articles())
def test_stories_fold_exactly_as_comparing_every_pair_would(articles: list[StoredArticle]) -> None:
    """The word index finds every pair the same-story rule folds: the groups are the same."""
    assert _groups(articles) == _groups_of_every_pair(articles)


@pytest.fixture(scope="module")
def polnear_articles(polnear: dict[str, dict[str, Any]]) -> list[StoredArticle]:
    """The 924 real articles, each publisher a feed."""
    return [article(r["id"], r["publisher"], r["title"], r["lead"]) for r in polnear.values()]


@pytest.fixture(scope="module")
def polnear_every_pair(polnear_articles: list[StoredArticle]) -> set[frozenset[str]]:
    """Their groups by comparing every pair (slow: computed once)."""
    return _groups_of_every_pair(polnear_articles)


@pytest.mark.parametrize("exact_up_to", [10_000, 0], ids=["rare words", "minhash"])
def test_real_news_of_seven_publishers_folds_as_comparing_every_pair(
    polnear_articles: list[StoredArticle],
    polnear_every_pair: set[frozenset[str]],
    exact_up_to: int,
) -> None:
    """900 real articles at once: the same groups, and every labelled pair folds as recorded,
    whether the pairs compared share a rare word or a MinHash band."""
    found = group_stories(polnear_articles, exact_up_to=exact_up_to)
    groups = {frozenset(item.article_ids) for item in found}
    assert groups == polnear_every_pair
    together = {frozenset((a, b)) for g in groups for a in g for b in g if a != b}
    for pair in PAIRS["polnear"]:
        assert (frozenset((pair["a"], pair["b"])) in together) is pair["merged_at_threshold"]


def test_a_digest_tick_remembers_only_a_few_rendered_digests() -> None:
    """The rush's memo forgets its oldest digests, so chats with news of their own (an alert
    sent some of it) cannot fill memory with one rendered digest each."""
    memo = RecentMemo(2)
    for n in range(5):
        memo[n] = Rendered((), (), ())
    assert list(memo) == [3, 4]


def test_a_digest_of_whole_articles_reads_the_same_from_their_openings(corpus: Path) -> None:
    """A digest tick keeps only each text's opening: 100 real CNN/DM articles without leads
    (their text's opening stands in) give the very same digest from those openings."""
    rows = (corpus / "summaries" / "realsumm_cnndm_100.jsonl").read_text(encoding="utf-8")
    articles = [
        article(f"a{n}", f"feed{n % 5}", f"Story {n}", minutes=n, text=json.loads(line)["article"])
        for n, line in enumerate(rows.splitlines())
    ]
    assert sum(len(a.text) > DIGEST_TEXT_CHARS for a in articles) >= 90
    cut = [for_digest(a) for a in articles]
    assert all(len(a.text) <= DIGEST_TEXT_CHARS for a in cut)
    at = T0 + timedelta(days=1)
    whole = digest_blocks(compose_digest(articles, max_items=30), tz=ZoneInfo("UTC"), now=at)
    opened = digest_blocks(compose_digest(cut, max_items=30), tz=ZoneInfo("UTC"), now=at)
    assert opened == whole
    shown = " ".join(whole)
    openings = [html.escape(a.text[:40], quote=False) for a in articles]
    assert sum(o in shown for o in openings) >= 25  # the openings are what the digest shows
