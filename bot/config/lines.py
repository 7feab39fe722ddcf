"""Where keys sit in a TOML text: tomllib reports no line numbers, so error messages ask here.

A line scan, not a parser: it knows ``[table]`` and ``[[array]]`` headers, ``key = ...`` and
dotted ``a.b = ...`` lines, and skips multi-line strings. Good enough to point a person at the
line of a valid file's key; when it cannot tell, it answers None.
"""

from __future__ import annotations

import re

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _path(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".")]


class KeyLines:
    """Line numbers (1-based) of table headers and keys in a TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, int, str | None], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if match := _ARRAY_HEADER.match(line):
                table = ".".join(_path(match[1]))
                index = counts.get(table, 0)
                counts[table] = index + 1
                self._lines.setdefault((table, index, None), number)
            elif match := _TABLE_HEADER.match(line):
                table, index = ".".join(_path(match[1])), 0
                self._lines.setdefault((table, index, None), number)
            elif match := _KEY.match(line):
                path = _path(match[1])
                prefix = ".".join(filter(None, [table, *path[:-1]]))
                at = index if prefix == table else 0
                self._lines.setdefault((prefix, at, None), number)
                self._lines.setdefault((prefix, at, path[-1]), number)
                if table:
                    self._lines.setdefault((table, index, path[0]), number)
                else:
                    self._lines.setdefault(("", 0, path[0]), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
                    break

    def line(self, table: str, *, index: int = 0, key: str | None = None) -> int | None:
        """The line of ``[table]`` (the ``index``-th ``[[table]]``), or of a key in it."""
        if key is None and table and (table, index, None) not in self._lines:
            return self._lines.get(("", 0, table))
        return self._lines.get((table, index, key))
