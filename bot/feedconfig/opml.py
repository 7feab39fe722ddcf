"""OPML 2.0: the feed list out (``feeds_to_opml``) and in (``read_opml`` -> ``plan_import``).

Export writes one ``<outline type="rss">`` per feed, in file order. A feed's topic is the
folder outline around it, as feed readers show folders (consecutive feeds of one topic share
a folder), and is also its ``category``. What OPML has no word for travels in attributes of
our own namespace: ``newsbot:tags`` (a JSON list), ``newsbot:interval_minutes``,
``newsbot:enabled``. Importing that file again gives the same feeds.

Import reads any reader's OPML: nested folders give the topic (the innermost folder), an
outline without ``xmlUrl`` is a folder. The XML is untrusted: a document type declaration or
entity declaration is refused outright (no entity is ever expanded, no external file read),
and the size is capped. ``plan_import`` (pure) sorts the outlines into feeds to add, feeds
already present and invalid ones, for a preview; ``bot.feedconfig.file.add_feeds`` applies it.
"""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import tomlkit

from bot.config import FeedConfig, parse_feeds
from bot.errors import ConfigFileError, OpmlError
from bot.feedconfig.check import default_name
from bot.feedconfig.text import url_key

NAMESPACE = "https://github.com/newsbot/newsbot/opml"
MAX_OPML_BYTES = 2 * 1024 * 1024
MAX_OUTLINES = 10_000
_NS = f"{{{NAMESPACE}}}"


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline as the file gives it (every string untrusted, nothing validated)."""

    url: str
    name: str | None = None
    topic: str | None = None
    tags: tuple[str, ...] = ()
    interval_minutes: str | None = None
    enabled: str | None = None
    site_url: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing would do: feeds to add (in file order, named uniquely), outlines whose
    address the list has already (with the existing feed's name), and invalid outlines."""

    to_add: tuple[FeedConfig, ...]
    present: tuple[tuple[OpmlFeed, str], ...]
    invalid: tuple[tuple[OpmlFeed, str], ...]


# -- export ---------------------------------------------------------------------------------


def feeds_to_opml(
    feeds: Sequence[FeedConfig],
    *,
    title: str = "newsbot feeds",
    site_urls: dict[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    """The feeds as an OPML 2.0 document. ``site_urls`` (feed name -> site address) fills
    ``htmlUrl`` where known; ``now`` sets ``dateCreated``."""
    ET.register_namespace("newsbot", NAMESPACE)
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    if now is not None:
        ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    folder: ET.Element | None = None
    for feed in feeds:
        if feed.topic is None:
            parent, folder = body, None
        else:
            if folder is None or folder.get("text") != feed.topic:
                folder = ET.SubElement(body, "outline", {"text": feed.topic, "title": feed.topic})
            parent = folder
        attributes = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if site_urls and feed.name in site_urls:
            attributes["htmlUrl"] = site_urls[feed.name]
        if feed.topic is not None:
            attributes["category"] = feed.topic
        if feed.tags:
            attributes[_NS + "tags"] = json.dumps(list(feed.tags), ensure_ascii=False)
        if feed.interval_minutes is not None:
            attributes[_NS + "interval_minutes"] = str(feed.interval_minutes)
        if not feed.enabled:
            attributes[_NS + "enabled"] = "false"
        ET.SubElement(parent, "outline", attributes)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# -- import ---------------------------------------------------------------------------------


def read_opml(data: bytes, *, max_bytes: int = MAX_OPML_BYTES) -> list[OpmlFeed]:
    """The feed outlines of an OPML document, in document order."""
    if len(data) > max_bytes:
        raise OpmlError(f"the OPML file is {len(data)} bytes; at most {max_bytes} are read")
    root = _parse_safely(data)
    if root.tag != "opml":
        raise OpmlError(f"this is XML but not OPML (its root element is <{root.tag}>)")
    body = root.find("body")
    if body is None:
        raise OpmlError("this OPML file has no <body>, so it lists no feeds")
    found: list[OpmlFeed] = []
    _walk(body, None, found)
    return found


def _parse_safely(data: bytes) -> ET.Element:
    """Parse with expat, refusing DTDs and entity declarations before anything is expanded."""

    def refuse(*_args: Any) -> int:
        raise OpmlError(
            "the OPML file declares a document type or entities; newsbot does not read such "
            "files (they can expand without bound or read other files)"
        )

    builder = ET.TreeBuilder()
    expat = xml.parsers.expat.ParserCreate(namespace_separator="}")
    expat.StartElementHandler = lambda tag, attributes: builder.start(
        _qualified(tag), {_qualified(k): v for k, v in attributes.items()}
    )
    expat.EndElementHandler = lambda tag: builder.end(_qualified(tag))
    expat.CharacterDataHandler = builder.data
    expat.StartDoctypeDeclHandler = refuse
    expat.EntityDeclHandler = refuse
    expat.UnparsedEntityDeclHandler = refuse
    expat.ExternalEntityRefHandler = refuse
    try:
        expat.Parse(data, True)
        return builder.close()
    except xml.parsers.expat.ExpatError as exc:
        raise OpmlError(f"the OPML file is not well-formed XML: {exc}") from None
    except AssertionError:  # TreeBuilder: no element at all
        raise OpmlError("the OPML file holds no XML element") from None


def _qualified(name: str) -> str:
    """expat's "uri}local" as ElementTree's "{uri}local"."""
    return "{" + name if "}" in name else name


def _walk(element: ET.Element, topic: str | None, found: list[OpmlFeed]) -> None:
    for outline in element.findall("outline"):
        if len(found) >= MAX_OUTLINES:
            raise OpmlError(f"the OPML file lists more than {MAX_OUTLINES} feeds")
        label = _clean(outline.get("text")) or _clean(outline.get("title"))
        url = _clean(outline.get("xmlUrl") or outline.get("xmlurl") or outline.get("url"))
        if not url:
            _walk(outline, label or topic, found)
            continue
        category = _category(outline.get("category"))
        found.append(
            OpmlFeed(
                url=url,
                name=label,
                topic=topic or category,
                tags=_tags(outline.get(_NS + "tags")),
                interval_minutes=_clean(outline.get(_NS + "interval_minutes")),
                enabled=_clean(outline.get(_NS + "enabled")),
                site_url=_clean(outline.get("htmlUrl")),
            )
        )


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def _category(value: str | None) -> str | None:
    """The last part of an OPML category ("/News/World,/Other" -> "World")."""
    if not value:
        return None
    first = value.split(",")[0].strip().strip("/")
    return _clean(first.rsplit("/", 1)[-1])


def _tags(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    try:
        tags = json.loads(value)
    except json.JSONDecodeError:
        tags = value.split(",")
    if not isinstance(tags, list):
        return ()
    return tuple(str(t).strip() for t in tags if str(t).strip())


def plan_import(current: Sequence[FeedConfig], outlines: Sequence[OpmlFeed]) -> ImportPlan:
    """Sort imported outlines into feeds to add, already present, and invalid (pure)."""
    by_address = {url_key(f.url): f.name for f in current}
    names = [f.name for f in current]
    to_add: list[FeedConfig] = []
    present: list[tuple[OpmlFeed, str]] = []
    invalid: list[tuple[OpmlFeed, str]] = []
    for outline in outlines:
        try:
            address = url_key(outline.url)
        except ValueError:
            address = outline.url
        if address in by_address:
            present.append((outline, by_address[address]))
            continue
        feed, problem = _feed_of(outline, names)
        if feed is None:
            invalid.append((outline, problem or "invalid"))
            continue
        by_address[address] = feed.name
        names.append(feed.name)
        to_add.append(feed)
    return ImportPlan(tuple(to_add), tuple(present), tuple(invalid))


def _feed_of(outline: OpmlFeed, taken: Sequence[str]) -> tuple[FeedConfig | None, str | None]:
    """The feed an outline describes, validated by the same rules as feeds.toml."""
    url = outline.url.strip()
    wanted = outline.name
    if wanted and wanted.casefold() not in {t.casefold() for t in taken} and len(wanted) <= 80:
        name = wanted
    else:
        fallback = wanted if wanted else (urlsplit(url).hostname if _splits(url) else None)
        name = default_name(fallback, url if _splits(url) else "http://feed", taken)
    table: dict[str, Any] = {"name": name, "url": url}
    if outline.topic:
        table["topic"] = outline.topic
    if outline.tags:
        table["tags"] = list(outline.tags)
    if outline.interval_minutes is not None:
        try:
            table["interval_minutes"] = int(outline.interval_minutes)
        except ValueError:
            return (
                None,
                f"interval_minutes must be a whole number, got {outline.interval_minutes!r}",
            )
    if outline.enabled is not None:
        if outline.enabled.lower() not in ("true", "false"):
            return None, f"enabled must be true or false, got {outline.enabled!r}"
        table["enabled"] = outline.enabled.lower() == "true"
    text = tomlkit.dumps({"feeds": [table]})
    try:
        tomllib.loads(text)
        feeds = parse_feeds(text, "outline")
    except (ConfigFileError, tomllib.TOMLDecodeError) as exc:
        problems = exc.problems if isinstance(exc, ConfigFileError) else (str(exc),)
        return None, "; ".join(_after_key(p) for p in problems)
    return feeds[0], None


def _splits(url: str) -> bool:
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _after_key(problem: str) -> str:
    """A problem without the synthetic file and line it was found at ("outline, line 3,
    feed #1 url: must be ..." -> "url: must be ...")."""
    marker = "feed #1 "
    return problem.split(marker, 1)[1] if marker in problem else problem


def format_plan(plan: ImportPlan) -> str:
    """The import preview: what would be added, what is there already, what is invalid."""
    lines = [f"To add ({len(plan.to_add)}):"]
    lines += [f"  + {f.name}  {f.url}{f'  [{f.topic}]' if f.topic else ''}" for f in plan.to_add]
    if plan.present:
        lines.append(f"Already present ({len(plan.present)}):")
        lines += [f"  = {name}  {outline.url}" for outline, name in plan.present]
    if plan.invalid:
        lines.append(f"Invalid, skipped ({len(plan.invalid)}):")
        lines += [
            f"  ! {outline.name or outline.url}: {problem}" for outline, problem in plan.invalid
        ]
    return "\n".join(lines) + "\n"
