"""Our query language as PostgreSQL full-text SQL: a checked Query in, a WHERE clause, a rank
expression and highlight queries out.

The same split as the embedded index (bot.search.fts): words are matched stemmed (the
``stemmed`` tsvector, built with the configuration of the article's language: Snowball stems
after unaccent, no stop words, so "who" and "us" stay searchable), each word's tokens adjacent
(``phraseto_tsquery``); phrases and prefixes are matched exact (the ``exact`` tsvector:
unaccented, unstemmed). Exclusions become ``NOT (vector @@ query)``.

The language of a query is not known, so its words are parsed once with every configuration
in use (the ``search_configs`` table), in one round trip before the search (``prepare``). An
article matches when its vector matches the query parsed with *its* configuration ("Wahlen"
finds "Wahl" in a German article; "united" does not find "units" in an English one through a
Spanish stem): the GIN index is probed with the union of the parsed queries, and each
candidate row is checked against its own (``CASE config …``), which is skipped when every
configuration parses the query alike. The parsed queries travel back as ``tsquery`` text
(quoted lexemes): user text reaches SQL only as bound parameters, and a prefix reaches
``to_tsquery`` as one quoted lexeme, so no operator a user types is ever parsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.search.query import Query, Term, TermKind
from bot.store.pgschema import EXACT_CONFIG, STEMMED_CONFIG, WORD_SEPARATORS

__all__ = ["EXACT_CONFIG", "RANK_WEIGHTS", "STEMMED_CONFIG", "PgQuery", "prepare"]

# ts_rank_cd weights, in PostgreSQL's order {D, C, B, A}: text D, lead B, title A (the
# embedded index's 1 : 4 : 10).
RANK_WEIGHTS = "{0.1, 0.0, 0.4, 1.0}"
_SEPARATE = str.maketrans(WORD_SEPARATORS, " " * len(WORD_SEPARATORS))


@dataclass(frozen=True, slots=True)
class ByConfig:
    """A query parsed with each configuration: ``groups`` pairs the configurations that parse
    it alike with that tsquery text (None where it holds no lexeme: nothing matches)."""

    groups: tuple[tuple[tuple[str, ...], str | None], ...]

    def union(self) -> str | None:
        """The tsquery any of them matches (probes the GIN index); None if none can."""
        texts = [text for _, text in self.groups if text]
        return " | ".join(f"({text})" for text in texts) or None

    def per_row(self, config_column: str) -> tuple[str, list[Any]]:
        """The query of the row's own configuration, as SQL (a constant when all agree)."""
        if len(self.groups) == 1:
            return "%s::tsquery", [self.groups[0][1]]
        largest = max(range(len(self.groups)), key=lambda n: len(self.groups[n][0]))
        sql = "CASE"
        params: list[Any] = []
        for n, (configs, text) in enumerate(self.groups):
            if n != largest:
                sql += f" WHEN {config_column} = ANY(%s::regconfig[]) THEN %s::tsquery"
                params += [list(configs), text]
        return f"{sql} ELSE %s::tsquery END", [*params, self.groups[largest][1]]


@dataclass(frozen=True, slots=True)
class PgQuery:
    """A query parsed for PostgreSQL: the words' stemmed queries by configuration, the
    phrases' and prefixes' exact queries (None for a part the query does not have)."""

    words: ByConfig | None = None
    words_excluded: ByConfig | None = None
    exact: str | None = None
    exact_excluded: str | None = None
    has_exact: bool = False

    @property
    def is_empty(self) -> bool:
        """Whether nothing can match (its positive terms hold no lexeme)."""
        return (self.words is not None and self.words.union() is None) or (
            self.has_exact and self.exact is None
        )

    def where(self, config_column: str = "config") -> tuple[str, list[Any]]:
        """The WHERE condition selecting matches, and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.words is not None:
            parts.append("stemmed @@ %s::tsquery")
            params.append(self.words.union())
            if len(self.words.groups) > 1:
                sql, more = self.words.per_row(config_column)
                parts.append(f"stemmed @@ ({sql})")
                params += more
        if self.has_exact:
            parts.append("exact @@ %s::tsquery")
            params.append(self.exact)
        if self.words_excluded is not None:
            sql, more = self.words_excluded.per_row(config_column)
            parts.append(f"NOT coalesce(stemmed @@ ({sql}), false)")
            params += more
        if self.exact_excluded:
            parts.append("NOT (exact @@ %s::tsquery)")
            params.append(self.exact_excluded)
        return " AND ".join(parts) or "false", params

    def rank(self, config_column: str = "config") -> tuple[str, list[Any]]:
        """ts_rank_cd summed over the vectors the query uses, and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.words is not None:
            sql, more = self.words.per_row(config_column)
            parts.append(f"ts_rank_cd('{RANK_WEIGHTS}', stemmed, {sql}, 1)")
            params += more
        if self.has_exact:
            parts.append(f"ts_rank_cd('{RANK_WEIGHTS}', exact, %s::tsquery, 1)")
            params.append(self.exact)
        return " + ".join(parts) or "0", params


def prepare(conn: Any, query: Query, configs: Sequence[str] | None = None) -> PgQuery:
    """Parse ``query``'s terms with every configuration in use (one round trip), or with
    ``configs`` (those of the rows it will be matched against)."""
    words = [t for t in query.terms if t.kind is TermKind.WORD]
    others = [t for t in query.terms if t.kind is not TermKind.WORD]
    columns: list[str] = []
    params: list[str] = []
    for terms, config, joiner in (
        ([t for t in words if not t.is_excluded], "c.config", " && "),
        ([t for t in words if t.is_excluded], "c.config", " || "),
        ([t for t in others if not t.is_excluded], f"'{EXACT_CONFIG}'", " && "),
        ([t for t in others if t.is_excluded], f"'{EXACT_CONFIG}'", " || "),
    ):
        parts = [_tsquery(config, t) for t in terms]
        columns.append(f"({joiner.join(sql for sql, _ in parts)})::text" if parts else "NULL")
        params += [p for _, p in parts]
    in_use = "search_configs c" if configs is None else "unnest(%s::regconfig[]) AS c (config)"
    rows = conn.execute(
        f"SELECT c.config::text, {', '.join(columns)} "  # noqa: S608 - our SQL only
        f"FROM (SELECT 1) AS one LEFT JOIN {in_use} ON true",
        [*params] if configs is None else [*params, list(configs)],
    ).fetchall()
    has_words = any(not t.is_excluded for t in words)
    has_excluded_words = any(t.is_excluded for t in words)
    first = rows[0]
    return PgQuery(
        words=_by_config(rows, 1) if has_words else None,
        words_excluded=_by_config(rows, 2) if has_excluded_words else None,
        exact=first[3] or None,
        exact_excluded=first[4] or None,
        has_exact=any(not t.is_excluded for t in others),
    )


def _by_config(rows: list[tuple[Any, ...]], column: int) -> ByConfig:
    """Group the configurations (rows of ``prepare``) by the tsquery text they parsed."""
    alike: dict[str | None, list[str]] = defaultdict(list)
    for row in rows:
        alike[row[column] or None].append(row[0] or STEMMED_CONFIG)
    return ByConfig(tuple((tuple(configs), text) for text, configs in alike.items()))


def _tsquery(config: str, term: Term) -> tuple[str, str]:
    words = term.text.translate(_SEPARATE)  # no quote or backslash is left
    if term.kind is TermKind.PREFIX:
        return f"to_tsquery({config}, %s)", f"'{words}':*"
    return f"phraseto_tsquery({config}, %s)", words
