"""Event log lines with fields: ``feed polled name="BBC World" status=304 new=0``."""

from __future__ import annotations

import re

_BARE = re.compile(r"^[^\s\"=\\]+$")
_MAX_VALUE_CHARS = 300


def fields(**values: object) -> str:
    """``key=value`` pairs in the order given; values with spaces or quotes are quoted, None
    is ``-``, long values are cut (feed-supplied text is untrusted)."""
    parts = []
    for key, value in values.items():
        text = "-" if value is None else str(value)
        if len(text) > _MAX_VALUE_CHARS:
            text = text[: _MAX_VALUE_CHARS - 1] + "…"
        if not _BARE.match(text):
            escaped = text.replace("\\", "\\\\").replace('"', '\\"')
            text = '"' + "".join(c if c.isprintable() else " " for c in escaped) + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
