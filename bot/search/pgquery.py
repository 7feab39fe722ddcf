"""Our query language as PostgreSQL full-text SQL: a checked Query in, a WHERE clause, a rank
expression and highlight queries out.

The same split as the embedded index (bot.search.fts): words are matched stemmed (the
``stemmed`` tsvector, English snowball stems after unaccent, no stop words so "who" and "us"
stay searchable), each word's tokens adjacent (``phraseto_tsquery``); phrases and prefixes
are matched exact (the ``exact`` tsvector: unaccented, unstemmed). Exclusions become
``NOT (vector @@ query)``. User text travels only as bound parameters; a prefix reaches
``to_tsquery`` as one quoted lexeme, so no operator a user types is ever parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.search.query import Query, Term, TermKind
from bot.store.pgschema import WORD_SEPARATORS

STEMMED_CONFIG = "newsbot_stemmed"
EXACT_CONFIG = "newsbot_exact"
# ts_rank_cd weights, in PostgreSQL's order {D, C, B, A}: text D, lead B, title A (the
# embedded index's 1 : 4 : 10).
RANK_WEIGHTS = "{0.1, 0.0, 0.4, 1.0}"
_SEPARATE = str.maketrans(WORD_SEPARATORS, " " * len(WORD_SEPARATORS))


@dataclass(frozen=True, slots=True)
class Side:
    """One tsvector column's queries: what must match and what must not (SQL, params)."""

    column: str
    match: str | None = None
    match_params: tuple[str, ...] = ()
    excluded: str | None = None
    excluded_params: tuple[str, ...] = ()
    config: str = field(default=STEMMED_CONFIG)


@dataclass(frozen=True, slots=True)
class PgQuery:
    stemmed: Side
    exact: Side

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.stemmed, self.exact)

    def where(self) -> tuple[str, list[str]]:
        """The WHERE condition selecting matches, and its parameters."""
        parts: list[str] = []
        params: list[str] = []
        for side in self.sides:
            if side.match:
                parts.append(f"{side.column} @@ ({side.match})")
                params += side.match_params
        for side in self.sides:
            if side.excluded:
                parts.append(f"NOT ({side.column} @@ ({side.excluded}))")
                params += side.excluded_params
        return " AND ".join(parts), params

    def rank(self) -> tuple[str, list[str]]:
        """ts_rank_cd summed over the sides the query uses, and its parameters."""
        parts: list[str] = []
        params: list[str] = []
        for side in self.sides:
            if side.match:
                parts.append(f"ts_rank_cd('{RANK_WEIGHTS}', {side.column}, ({side.match}), 1)")
                params += side.match_params
        return " + ".join(parts), params


def to_pg(query: Query) -> PgQuery:
    words = [t for t in query.terms if t.kind is TermKind.WORD]
    others = [t for t in query.terms if t.kind is not TermKind.WORD]
    return PgQuery(
        stemmed=_side("stemmed", STEMMED_CONFIG, words),
        exact=_side("exact", EXACT_CONFIG, others),
    )


def _side(column: str, config: str, terms: list[Term]) -> Side:
    positive = [_tsquery(config, t) for t in terms if not t.is_excluded]
    negative = [_tsquery(config, t) for t in terms if t.is_excluded]
    return Side(
        column=column,
        match=" && ".join(sql for sql, _ in positive) or None,
        match_params=tuple(p for _, p in positive),
        excluded=" || ".join(sql for sql, _ in negative) or None,
        excluded_params=tuple(p for _, p in negative),
        config=config,
    )


def _tsquery(config: str, term: Term) -> tuple[str, str]:
    words = term.text.translate(_SEPARATE)  # no quote or backslash is left
    if term.kind is TermKind.PREFIX:
        return f"to_tsquery('{config}', %s)", f"'{words}':*"
    return f"phraseto_tsquery('{config}', %s)", words
