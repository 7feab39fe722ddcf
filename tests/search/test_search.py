"""Search: ranking, the query language, any script, paging, malformed queries, the index's
life cycle, alerts' matcher and the console commands."""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli.main import main
from bot.errors import QueryError, StoreError
from bot.models import StoredArticle
from bot.search.contract import TextIndex
from bot.search.index import INDEX_FILENAME, ArticleMatcher, SearchIndex, matches, matching_queries
from bot.search.pgindex import PgSearchIndex
from bot.search.query import parse_query, tokenize
from bot.search.snippet import make_snippet, render_snippet
from bot.store.datadir import Store

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

FILLER = [
    "Markets rose on Monday as investors weighed the central bank's outlook.",
    "The council approved a new budget for schools and libraries.",
    "Farmers in the valley reported a strong harvest of apples this autumn.",
    "A new bridge over the river opened to traffic after two years of work.",
    "The museum unveiled an exhibition of paintings from the eighteenth century.",
    "Engineers tested a battery design that charges in minutes.",
    "The orchestra announced its programme for the winter season.",
    "Researchers counted more birds in the wetlands than last year.",
    "The airline added routes to three cities in the spring schedule.",
    "Volunteers cleaned the beach and collected plastic waste.",
]


def article(
    article_id: str,
    title: str,
    text: str,
    *,
    days_old: float = 0,
    lead: tuple[str, ...] = (),
    feed: str = "Example News",
) -> StoredArticle:
    published = NOW - timedelta(days=days_old)
    return StoredArticle(
        id=article_id,
        feed=feed,
        title=title,
        link=f"https://news.example/{article_id}",
        published=published,
        fetched=published,
        text=text,
        lead=lead,
    )


def fillers() -> list[StoredArticle]:
    return [
        article(f"filler{i}", text.split()[1], text, days_old=i) for i, text in enumerate(FILLER)
    ]


@pytest.fixture(params=["embedded", "postgres"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TextIndex]:
    """A real index holding the filler articles: an SQLite file, or a PostgreSQL database
    (every test taking this fixture is the search contract, run against both)."""
    idx: TextIndex
    if request.param == "embedded":
        idx = SearchIndex.in_data_dir(tmp_path)
    else:
        idx = PgSearchIndex(request.getfixturevalue("pg_database"))
    with idx:
        idx.index_articles(fillers())
        yield idx


def ids(index: TextIndex, query: str, limit: int = 100) -> list[str]:
    return [hit.id for hit in index.search(query, now=NOW, limit=limit).hits]


# -- ranking -----------------------------------------------------------------------------


def test_title_match_ranks_above_body_match(index: TextIndex) -> None:
    """An article about the word (in its title) comes before one that mentions it."""
    index.index_articles(
        [
            article("body", "Weather this week", "Rain all week, with a flood warning on Friday."),
            article("title", "Flood warning for the coast", "Rain all week, and wind on Friday."),
        ]
    )
    assert ids(index, "flood") == ["title", "body"]


def test_lead_match_ranks_above_text_only_match(index: TextIndex) -> None:
    """A word in the lead weighs more than the same word further down."""
    text = "Officials met on Tuesday. The tunnel project was discussed at length."
    index.index_articles(
        [
            article("text", "Meeting", text),
            article("lead", "Meeting", text, lead=("The tunnel project was discussed.",)),
        ]
    )
    assert ids(index, "tunnel") == ["lead", "text"]


def test_more_recent_article_wins_a_tie(index: TextIndex) -> None:
    """Equally relevant articles come newest first."""
    text = "The glacier retreated further this summer."
    index.index_articles(
        [
            article("old", "Glacier", text, days_old=40),
            article("new", "Glacier", text, days_old=1),
            article("mid", "Glacier", text, days_old=10),
        ]
    )
    assert ids(index, "glacier") == ["new", "mid", "old"]


def test_much_better_old_match_still_beats_a_weak_recent_one(index: TextIndex) -> None:
    """Recency boosts, it does not bury: a year-old story about the subject stays on top."""
    index.index_articles(
        [
            article(
                "old", "Volcano erupts", "The volcano erupted; volcano ash fell.", days_old=365
            ),
            article(
                "new",
                "Travel news",
                "Flights resumed after delays at several airports, including one near a volcano.",
                days_old=0,
            ),
        ]
    )
    assert ids(index, "volcano") == ["old", "new"]


def test_scores_are_positive_and_descending(index: TextIndex) -> None:
    """Hits carry a score, best first."""
    page = index.search("the new", now=NOW)
    scores = [hit.score for hit in page.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(score >= 0 for score in scores)


# -- the query language --------------------------------------------------------------------


def test_phrase_matches_adjacent_words_in_order(index: TextIndex) -> None:
    """ "sea level" finds the phrase, not the two words apart or reversed."""
    index.index_articles(
        [
            article("phrase", "Coasts", "The sea level rose again."),
            article("apart", "Coasts", "The sea rose to a new level."),
            article("reversed", "Coasts", "Level with the sea."),
        ]
    )
    assert ids(index, '"sea level"') == ["phrase"]
    assert set(ids(index, "sea level")) == {"phrase", "apart", "reversed"}


def test_phrase_is_exact_not_stemmed(index: TextIndex) -> None:
    """A quoted phrase matches its exact words (still ignoring case and accents)."""
    index.index_articles(
        [
            article("exact", "Shoes", "New Running Shoes for the marathon."),
            article("stemmed", "Shoes", "He runs; a shoe is lost."),
        ]
    )
    assert ids(index, '"running shoes"') == ["exact"]
    assert set(ids(index, "running shoes")) == {"exact", "stemmed"}


@pytest.mark.parametrize("query", ["-opinion", "−opinion", "–opinion"])
def test_excluded_word_leaves_articles_out(index: TextIndex, query: str) -> None:
    """-word (also with a typographic minus or dash) removes articles containing it."""
    index.index_articles(
        [
            article("news", "Levy vote", "Parliament passed the levy."),
            article("opinion", "Levy vote", "Opinion: the levy is a mistake."),
        ]
    )
    assert ids(index, f"parliament levy {query}") == ["news"]
    assert ids(index, f"levy {query}") == ["news"]


def test_excluded_phrase_leaves_only_that_phrase_out(index: TextIndex) -> None:
    """-"op ed" removes the phrase, not each word."""
    index.index_articles(
        [
            article("oped", "Taxes", "An op ed on taxes."),
            article("words", "Taxes", "Taxes: ed said the op was fine."),
        ]
    )
    assert ids(index, 'taxes -"op ed"') == ["words"]


def test_excluded_word_is_stemmed_like_searched_words(index: TextIndex) -> None:
    """-elections also leaves out "election"."""
    index.index_articles(
        [
            article("a", "Turnout", "Turnout in the election was high."),
            article("b", "Turnout", "Turnout at the stadium was high."),
        ]
    )
    assert ids(index, "turnout -elections") == ["b"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("univers*", {"universities", "universe"}),
        ("connectio*", {"connection"}),
        ("UNIVERSIT*", {"universities"}),
        ('"the universit*"', set()),  # a star inside quotes is not a prefix
    ],
)
def test_prefix_matches_the_start_of_words(
    index: TextIndex, query: str, expected: set[str]
) -> None:
    """pre* matches every word starting so, even past where English stemming would cut."""
    index.index_articles(
        [
            article("universities", "Campus", "Three universities joined."),
            article("universe", "Space", "The universe is expanding."),
            article("connection", "Trains", "A faster connection to the north."),
            article("unit", "Army", "A unit was deployed."),
        ]
    )
    assert set(ids(index, query)) == expected


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("cafe", "A new café opened."),
        ("café", "A new cafe opened."),
        ("CAFÉ", "A new Cafe opened."),
        ("zurich", "Banks in Zürich closed."),
        ("Zürich", "Banks in Zurich closed."),
        ("naive", "A naïve plan."),
        ("sao paulo", "Rain in São Paulo."),
        ('"São Paulo"', "Rain in sao paulo."),
        ("Ecole*", "L'école est fermée."),
    ],
)
def test_words_match_whatever_their_case_and_accents(
    index: TextIndex, query: str, text: str
) -> None:
    """Case and accents never stop a match."""
    index.index_articles([article("target", "Report", text)])
    assert ids(index, query) == ["target"]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("running", "She runs every day."),
        ("runs", "He was running late."),
        ("elections", "The election is near."),
        ("policies", "A new policy."),
        ("connected", "The connection failed."),
    ],
)
def test_english_words_match_their_other_forms(index: TextIndex, query: str, text: str) -> None:
    """Plain English words are stemmed: runs finds running."""
    index.index_articles([article("target", "Report", text)])
    assert ids(index, query) == ["target"]


@pytest.mark.parametrize(
    "query", ["NEAR(coast storm)", "coast:storm", "^coast", "(coast", "coast + storm)", "{coast}"]
)
def test_engine_syntax_is_literal_text(index: TextIndex, query: str) -> None:
    """FTS5 operators, column filters and brackets are just punctuation or words to users."""
    index.index_articles([article("target", "Storm", "A storm near the coast.")])
    page = index.search(query, now=NOW)
    assert [hit.id for hit in page.hits] == ["target"]


def test_unclosed_quote_runs_to_the_end(index: TextIndex) -> None:
    """An unbalanced quote is read as a phrase up to the end of the text."""
    index.index_articles(
        [
            article("phrase", "Coasts", "The sea level rose again."),
            article("apart", "Coasts", "The sea rose to a new level."),
        ]
    )
    assert ids(index, 'coasts "sea level') == ["phrase"]
    assert str(parse_query('coasts "sea level')) == 'coasts "sea level"'


def test_curly_quotes_make_a_phrase_as_phones_type_them() -> None:
    """“sea level” and „sea level“ are phrases too."""
    assert str(parse_query("“sea level”")) == '"sea level"'
    assert str(parse_query("„sea level“")) == '"sea level"'
    assert str(parse_query("«sea level»")) == '"sea level"'


def test_stop_words_are_dropped_beside_real_words() -> None:
    """Common words outside quotes are ignored and reported, quoted ones are kept."""
    query = parse_query('war in the north "state of the art"')
    assert str(query) == 'war north "state of the art"'
    assert query.ignored == ("in", "the")


# -- any script ----------------------------------------------------------------------------


def urdu_entries(corpus: Path) -> list[StoredArticle]:
    feed = feedparser.parse((corpus / "feeds/miniflux/parser/testdata/urdu_UTF8.xml").read_bytes())
    return [
        article(f"urdu{i}", entry.title, entry.summary, feed="BBC Urdu", days_old=i)
        for i, entry in enumerate(feed.entries)
    ]


@pytest.mark.parametrize("word", ["پاکستان", "امریکہ", "دفاع", "دہشت"])
def test_urdu_words_find_exactly_the_entries_containing_them(
    index: TextIndex, corpus: Path, word: str
) -> None:
    """BBC Urdu entries are found by their words, and the snippet marks the word."""
    entries = urdu_entries(corpus)
    index.index_articles(entries)
    expected = {a.id for a in entries if word in tokenize(a.title) or word in tokenize(a.text)}
    page = index.search(word, now=NOW, limit=100)
    assert expected
    assert {hit.id for hit in page.hits} == expected
    assert page.total == len(expected)
    in_text = [hit for hit in page.hits if word in tokenize(render_snippet(hit.snippet))]
    assert in_text
    assert all((word, True) in hit.snippet for hit in in_text)


def test_urdu_phrase_and_exclusion(index: TextIndex, corpus: Path) -> None:
    """Phrases and exclusions work in Urdu as in English."""
    entries = urdu_entries(corpus)
    index.index_articles(entries)
    with_phrase = set(ids(index, '"وزیر دفاع"'))
    assert with_phrase
    assert all("وزیر دفاع" in a.title + " " + a.text for a in entries if a.id in with_phrase)
    without = set(ids(index, 'پاکستان -"وزیر دفاع"'))
    assert without
    assert not without & with_phrase


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("हिन्दी", "हिन्दी भाषा में समाचार"),  # Devanagari vowel signs stay inside the word
        ("Ελλάδα", "Εκλογές στην Ελλάδα"),
        ("москва", "Новости: Москва и область"),
        ("東京*", "東京都の知事"),
    ],
)
def test_other_scripts_are_searchable(index: TextIndex, word: str, text: str) -> None:
    """Words in any script match as whole words (and a stemmer never mangles them)."""
    index.index_articles([article("target", "News", text)])
    assert ids(index, word) == ["target"]


@pytest.mark.parametrize(
    "text",
    [
        "Café Zürich naïve São-Paulo don't U.S. covid-19 AT&T",
        "پاکِستان کے وزیرِ دفاع نے کہا",
        "हिन्दी भाषा में समाचार",
        "Ελλάδα ΕΚΛΟΓΈΣ Москва 東京都の知事 서울",
        # (characters newer than the engine's Unicode tables, such as most emoji, are words
        # to it but symbols to the parser: a term made only of them is ignored)
        "symbols © ™ — “quotes” ½ ² and ☺",
    ],
)
def test_query_words_are_the_engines_words(text: str) -> None:
    """The parser splits and lower-cases words as the index's tokenizer does."""
    import sqlite3

    from bot.search.fts import SCHEMA

    db = sqlite3.connect(":memory:")
    for statement in SCHEMA:
        db.execute(statement)
    db.execute("CREATE VIRTUAL TABLE words USING fts5vocab(fts_exact, 'instance')")
    db.execute(
        "INSERT INTO articles (id, published, feed, link, title, lead, text) "
        "VALUES ('a', '', '', '', '', '', ?)",
        (text,),
    )
    engine = [row[0] for row in db.execute("SELECT term FROM words ORDER BY offset")]
    ours = tokenize(text)
    assert len(ours) == len(engine)
    for word, term in zip(ours, engine, strict=True):
        if term.isascii():  # the engine also drops Latin accents
            folded = unicodedata.normalize("NFD", word)
            assert "".join(c for c in folded if not unicodedata.combining(c)) == term


# -- paging ----------------------------------------------------------------------------------


def test_pages_cover_every_hit_once_and_count_the_total(index: TextIndex) -> None:
    """Paging by limit/offset never repeats or skips a hit, and each page knows the total."""
    index.index_articles(
        article(
            f"s{i}",
            f"Storm update {i}",
            "A storm crossed the region." * (1 + i % 3),
            days_old=i % 7,
        )
        for i in range(25)
    )
    pages = [index.search("storm", now=NOW, limit=10, offset=offset) for offset in (0, 10, 20)]
    seen = [hit.id for page in pages for hit in page.hits]
    assert sorted(seen) == sorted(f"s{i}" for i in range(25))
    assert [len(page.hits) for page in pages] == [10, 10, 5]
    assert all(page.total == 25 for page in pages)
    assert [page.has_more for page in pages] == [True, True, False]
    assert index.search("storm", now=NOW, limit=10, offset=30).hits == ()


# -- malformed queries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type some words"),
        ("   \n\t ", "Type some words"),
        ('"', "(?i)type some words"),
        ('""', "(?i)type some words"),
        ("the of and", "too common"),
        ("THE", "too common"),
        ("-opinion", "only leaves words out"),
        ('-"op ed" -opinion', "only leaves words out"),
        ("x" * 5000, "too long (5000 characters)"),
        ("climate " * 70, "under 500 characters"),
        ("climate\x00summit", "control"),
        ("climate\x1bsummit", "control"),
        ("climate\x7f", "control"),
        ("\ud800", "invalid characters"),
        ("!!! ??? ...", "only symbols"),
        ("*", "only symbols"),
        ("ab*", "at least 3 letters"),
        (" ".join(f"w{i}" for i in range(31)), "at most 30"),
    ],
)
def test_malformed_query_gets_a_clear_message(index: TextIndex, query: str, message: str) -> None:
    """Each kind of unusable query says what is wrong, never an engine error."""
    with pytest.raises(QueryError, match=message.replace("(5", r"\(5").replace("s)", r"s\)")):
        index.search(query, now=NOW)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([*"\"“”-−*^():{}+,.;'\\ \t\n", "NEAR", "OR", "NOT", "AND", "storm"]),
            st.characters(),
        ),
        max_size=40,
    ).map("".join)
)
def test_no_query_raises_anything_but_query_error(index: TextIndex, query: str) -> None:
    """Whatever a user types, search answers or explains: never an engine error."""
    try:
        page = index.search(query, now=NOW)
    except QueryError as exc:
        message = str(exc)
        assert message
    else:
        assert page.total >= len(page.hits)


# -- the index's life cycle ----------------------------------------------------------------


def test_reindexing_an_article_replaces_it(index: TextIndex) -> None:
    """An updated article (same id) is found by its new words only, once."""
    index.index_articles([article("a", "First draft", "Alpha text.", days_old=3)])
    index.index_articles([article("a", "Corrected", "Beta text.", days_old=1)])
    assert ids(index, "alpha") == []
    assert ids(index, "beta") == ["a"]
    assert ids(index, "corrected") == ["a"]
    hit = index.search("beta", now=NOW).hits[0]
    assert hit.title == "Corrected"
    assert hit.published == NOW - timedelta(days=1)
    assert len(index) == len(FILLER) + 1


def test_removed_articles_are_no_longer_found(index: TextIndex) -> None:
    """remove(ids) takes articles out of the index; unknown ids are ignored."""
    index.index_articles([article("a", "Comet", "A comet."), article("b", "Comet", "A comet.")])
    assert index.remove(["a", "nope"]) == 1
    assert ids(index, "comet") == ["b"]
    assert "a" not in index
    assert "b" in index


def test_rebuild_equals_incremental_indexing(tmp_path: Path, corpus: Path) -> None:
    """Rebuilding from the final articles gives the same results as indexing as they came."""
    updated = [article("u0", "Storm", "A storm and a flood.", days_old=2)]
    final = [*fillers(), *urdu_entries(corpus), *updated]
    with (
        SearchIndex(tmp_path / "inc.sqlite3") as incremental,
        SearchIndex(tmp_path / "reb.sqlite3") as rebuilt,
    ):
        incremental.index_articles([article("u0", "Draft", "A flood.", days_old=5)])
        incremental.index_articles(final[:15])
        incremental.index_articles([article("gone", "Storm", "A storm.")])
        incremental.index_articles(final[15:])
        incremental.remove(["gone"])
        rebuilt.index_articles([article("stale", "Storm", "A storm.")])
        assert rebuilt.rebuild(final) == len(final)
        assert len(incremental) == len(rebuilt) == len(final)
        for query in ["storm", "flood -storm", "پاکستان", '"وزیر دفاع"', "new*", "the bridge"]:
            assert incremental.search(query, now=NOW) == rebuilt.search(query, now=NOW)


def test_failed_rebuild_keeps_the_old_index(index: TextIndex) -> None:
    """A rebuild that fails half-way (the store breaks) leaves the previous index in place."""

    def broken() -> Iterator[StoredArticle]:
        yield article("new", "Comet", "A comet.")
        raise StoreError("the archive shard cannot be read")

    with pytest.raises(StoreError):
        index.rebuild(broken())
    assert len(index) == len(FILLER)
    assert ids(index, "orchestra") == ["filler6"]
    assert ids(index, "comet") == []
    if isinstance(index, SearchIndex):  # and no half-built file is left beside it
        assert sorted(p.name for p in Path(str(index.path)).parent.iterdir()) == [
            INDEX_FILENAME,
            f"{INDEX_FILENAME}-shm",
            f"{INDEX_FILENAME}-wal",
        ]


def test_index_file_survives_reopening(tmp_path: Path) -> None:
    """The index is a file: closing and opening it again keeps every article."""
    with SearchIndex.in_data_dir(tmp_path) as idx:
        idx.index_articles(fillers())
    with SearchIndex.in_data_dir(tmp_path) as idx:
        assert len(idx) == len(FILLER)
        assert ids(idx, "orchestra") == ["filler6"]


def test_damaged_index_file_says_to_reindex(tmp_path: Path) -> None:
    """A file that is not an index gives a StoreError pointing at `newsbot reindex`."""
    (tmp_path / INDEX_FILENAME).write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="newsbot reindex"):
        SearchIndex.in_data_dir(tmp_path)


def test_feed_text_cannot_break_the_snippet_markers(index: TextIndex) -> None:
    """Control characters in an article (untrusted) do not leak into snippets."""
    index.index_articles([article("x", "Tricky", "before \x02storm\x03 after \x00 end")])
    (hit,) = index.search("storm", now=NOW).hits
    assert render_snippet(hit.snippet) == "before **storm** after end"


# -- snippets ------------------------------------------------------------------------------


def test_snippet_shows_the_passage_with_the_matched_words(index: TextIndex) -> None:
    """The snippet is a window around the matches, cut at words, with an ellipsis."""
    text = (
        " ".join(["Filler words about nothing much."] * 30)
        + (" Then the avalanche buried the road to the village.")
        + " ".join(["More filler text follows here."] * 30)
    )
    index.index_articles([article("a", "Alps", text)])
    (hit,) = index.search("avalanche village", now=NOW, snippet_chars=120).hits
    rendered = render_snippet(hit.snippet)
    assert "**avalanche**" in rendered
    assert "**village**" in rendered
    assert rendered.startswith("…")
    assert rendered.endswith("…")
    assert len(rendered) <= 120 + 10


@pytest.mark.parametrize("filler_chars", [8_000, 8_300, 30_000])
def test_a_long_article_shows_its_term_wherever_the_window_finds_it(
    index: TextIndex, filler_chars: int
) -> None:
    """A term near or past the first part of a long text (8 192 characters are looked at
    first) is still marked, and both backends cut the same snippet from the same text."""
    filler = " ".join(["Filler words about nothing much."] * (filler_chars // 33))
    text = f"{filler} Then the avalanche buried the road. {filler}"
    index.index_articles([article("long", "Alps", text)])
    (hit,) = index.search("avalanche", now=NOW, snippet_chars=120).hits
    start = text.index("avalanche")
    assert hit.snippet == make_snippet(text, [(start, start + len("avalanche"))], 120)


def test_snippet_segments_escape_safely_for_telegram_html(index: TextIndex) -> None:
    """The caller escapes every part and bolds matches: feed markup never becomes HTML."""
    index.index_articles([article("a", "XSS", "A <script>alert(1)</script> storm & <b>rain</b>.")])
    (hit,) = index.search("storm", now=NOW).hits
    rendered = render_snippet(hit.snippet, ("<b>", "</b>"), html.escape)
    assert rendered == (
        "A &lt;script&gt;alert(1)&lt;/script&gt; <b>storm</b> &amp; &lt;b&gt;rain&lt;/b&gt;."
    )


@given(st.text(max_size=400), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 40))))
def test_snippet_text_comes_from_the_article(text: str, raw_spans: list[tuple[int, int]]) -> None:
    """Every snippet word is the article's, in order; matched parts are matched spans."""
    spans = [(s, min(len(text), s + n)) for s, n in raw_spans if s < len(text)]
    segments = make_snippet(text, spans, max_chars=100)
    plain = "".join(part for part, _ in segments).replace("…", " ").split()
    assert " ".join(plain) in " ".join(text.replace("…", " ").split())


# -- alerts' matcher -------------------------------------------------------------------------


def test_matcher_tests_one_new_article_against_saved_queries() -> None:
    """Saved alert queries that a new article matches, in order."""
    new = article("n", "Flood warning in Leeds", "Heavy rain is running off the hills.")
    saved = [parse_query(q) for q in ["flood", "leeds -rain", '"heavy rain"', "hill*", "snow"]]
    assert [str(q) for q in matching_queries(saved, new)] == ["flood", '"heavy rain"', "hill*"]
    assert matches("runs", new)
    assert not matches("flood -leeds", new)
    with ArticleMatcher(new) as matcher:
        assert matcher.matches("FLOODS")


_WORDS = [
    "storm",
    "storms",
    "stormy",
    "café",
    "cafe",
    "Zürich",
    "sea",
    "level",
    "run",
    "running",
    "پاکستان",
    "دفاع",
    "the",
    "NEAR",
    "op-ed",
    "univers",
]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8), min_size=1, max_size=6),
    st.lists(
        st.tuples(
            st.sampled_from(["", "-"]),
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=2),
            st.sampled_from(["word", "phrase", "prefix"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_matcher_agrees_with_search(
    texts: list[list[str]], parts: list[tuple[str, list[str], str]]
) -> None:
    """An alert fires for an article exactly when searching would find it."""
    articles = [article(f"a{i}", "News", " ".join(words)) for i, words in enumerate(texts)]
    query_text = " ".join(
        sign + {"word": " ".join(ws), "phrase": f'"{" ".join(ws)}"', "prefix": f"{ws[0]}*"}[kind]
        for sign, ws, kind in parts
    )
    try:
        query = parse_query(query_text)
    except QueryError:
        return
    with SearchIndex(":memory:") as idx:
        idx.index_articles(articles)
        found = {hit.id for hit in idx.search(query, now=NOW, limit=100).hits}
    assert found == {a.id for a in articles if matches(query, a)}


# -- the console -----------------------------------------------------------------------------


def stored(tmp_path: Path, articles: list[StoredArticle]) -> Path:
    from bot.store.archive import SeenMark

    data = tmp_path / "data"
    with Store.open(data) as store:
        marks = [
            SeenMark(identity=a.id, content_hash=a.id, feed=a.feed, article_id=a.id)
            for a in articles
        ]
        store.commit_cycle(NOW, articles, marks)
    return data


def test_reindex_then_search_at_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`newsbot reindex` builds the index from the store; `newsbot search` prints hits."""
    data = stored(tmp_path, [*fillers(), article("s", "Storm hits coast", "A storm came.")])
    monkeypatch.setenv("NEWSBOT_DATA", str(data))
    assert main(["reindex"]) == 0
    assert f"indexed {len(FILLER) + 1} articles" in capsys.readouterr().err

    assert main(["search", "storm"]) == 0
    out = capsys.readouterr().out
    assert "Storm hits coast\nExample News · " in out
    assert "https://news.example/s" in out
    assert "A **storm** came." in out

    assert main(["search", "new", "--format", "jsonl", "--limit", "1", "--offset", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["filler1"]  # filler3 is newer
    assert {"id", "title", "feed", "published", "link", "snippet", "segments", "score"} <= set(
        json.loads(lines[0])
    )


def test_search_finds_the_data_folder_settings_toml_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without NEWSBOT_DATA, search and reindex use [store] data_dir, as fetch and run do."""
    data = stored(tmp_path, [*fillers(), article("s", "Storm hits coast", "A storm came.")])
    config = tmp_path / "conf"
    config.mkdir()
    (config / "settings.toml").write_text(f'[store]\ndata_dir = "{data}"\n', "utf-8")
    monkeypatch.delenv("NEWSBOT_DATA", raising=False)
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    assert main(["reindex"]) == 0
    capsys.readouterr()
    assert main(["search", "storm"]) == 0
    assert "Storm hits coast" in capsys.readouterr().out


def test_reindex_refuses_while_the_bot_holds_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reindexing under a running bot would swap the file it reads: it says to stop it."""
    data = stored(tmp_path, fillers())
    monkeypatch.setenv("NEWSBOT_DATA", str(data))
    with Store.open(data):
        assert main(["reindex"]) == 1
    assert "in use by another newsbot process" in capsys.readouterr().err
    assert main(["reindex"]) == 0


def test_console_search_reports_a_bad_query_and_a_missing_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input exits 1 with the message on stderr."""
    monkeypatch.setenv("NEWSBOT_DATA", str(tmp_path / "data"))
    assert main(["search", "storm"]) == 1
    assert "newsbot reindex" in capsys.readouterr().err
    stored(tmp_path, fillers())
    assert main(["reindex"]) == 0
    assert main(["search", "the"]) == 1
    assert "too common" in capsys.readouterr().err
