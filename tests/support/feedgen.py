"""Generated RSS feeds whose entries link to corpus pages served on a loopback server.

Used by the ingest tests, the durability test and ``bench/ingest.py``: real news pages from
``corpus/extraction``, wrapped in feeds we control (entry count, dates, GUIDs, links).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

BASE_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    """One RSS item; ``description`` is HTML (escaped into the XML)."""

    guid: str
    title: str
    link: str
    published: datetime
    description: str = ""


def rss(items: Sequence[Item], title: str = "Loopback News") -> bytes:
    """An RSS 2.0 document of ``items`` in the order given."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{html.escape(title)}</title>",
        "<link>http://127.0.0.1/</link><description>generated</description>",
    ]
    for item in items:
        parts.append(
            "<item>"
            f'<guid isPermaLink="false">{html.escape(item.guid)}</guid>'
            f"<title>{html.escape(item.title)}</title>"
            f"<link>{html.escape(item.link)}</link>"
            f"<pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{html.escape(item.description)}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def items(
    feed: str,
    count: int,
    link_for: str | None = None,
    *,
    pages: int = 1,
    start: int = 0,
) -> list[Item]:
    """``count`` items of ``feed``, newest first, an hour apart; item ``k`` links to
    ``{link_for}/{k % pages}.html`` and carries a two-paragraph description."""
    made = []
    for k in range(start, start + count):
        link = f"{link_for}/{k % pages}.html" if link_for else f"http://127.0.0.1/{feed}/{k}"
        made.append(
            Item(
                guid=f"{feed}-{k}",
                title=f"{feed} story number {k}",
                link=link,
                published=BASE_TIME - timedelta(hours=k),
                description=(
                    f"<p>Summary of {feed} story {k}: the council voted on the budget on "
                    "Tuesday after a long debate about schools and roads.</p>"
                    f"<p>Officials said the plan would take effect next year.</p>"
                ),
            )
        )
    return made


def corpus_pages(corpus: Path, count: int) -> list[Path]:
    """The first ``count`` news pages of the extraction corpus (zyte), in name order."""
    pages = sorted((corpus / "extraction" / "zyte" / "pages").glob("*.html"))
    if len(pages) < count:
        raise ValueError(f"the corpus has {len(pages)} pages, not {count}")
    return pages[:count]
