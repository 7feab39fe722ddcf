"""Our dataclasses to and from TinyDB documents: the one place the store's JSON shapes live.

Times are stored as ISO 8601 strings in UTC and come back timezone-aware; tuples come back
as tuples. A document that does not fit raises ``StoreError`` naming where it came from.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.errors import StoreError
from bot.models import Quote, StoredArticle

T = TypeVar("T")


def article_to_doc(article: StoredArticle, identity: str, content_hash: str) -> dict[str, Any]:
    """The archive document of an article; it also names the feed entry it came from."""
    return {
        "feed": article.feed,
        "title": article.title,
        "link": article.link,
        "published": time_to_text(article.published),
        "fetched": time_to_text(article.fetched),
        "updated": time_to_text(article.updated) if article.updated else None,
        "text": article.text,
        "lead": list(article.lead),
        "quotes": [{"text": q.text, "speaker": q.speaker} for q in article.quotes],
        "author": article.author,
        "topic": article.topic,
        "tags": list(article.tags),
        "language": article.language,
        "image": article.image,
        "identity": identity,
        "content_hash": content_hash,
    }


def article_from_doc(article_id: str, doc: typing.Mapping[str, Any], where: str) -> StoredArticle:
    """The StoredArticle an archive document holds."""
    try:
        updated = doc.get("updated")
        return StoredArticle(
            id=article_id,
            feed=_text(doc["feed"]),
            title=_text(doc["title"]),
            link=_text(doc["link"]),
            published=time_from_text(doc["published"]),
            fetched=time_from_text(doc["fetched"]),
            updated=time_from_text(updated) if updated is not None else None,
            text=_text(doc["text"]),
            lead=tuple(_text(s) for s in doc.get("lead", ())),
            quotes=tuple(
                Quote(text=_text(q["text"]), speaker=_optional_text(q.get("speaker")))
                for q in doc.get("quotes", ())
            ),
            author=_optional_text(doc.get("author")),
            topic=_optional_text(doc.get("topic")),
            tags=tuple(_text(t) for t in doc.get("tags", ())),
            language=_optional_text(doc.get("language")),
            image=_optional_text(doc.get("image")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreError(f"{where}: article {article_id!r} is malformed ({exc!r})") from exc


def record_to_doc(record: object) -> dict[str, Any]:
    """A flat frozen dataclass (FeedState and the like) as a document; times as ISO text."""
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"expected a dataclass instance, got {record!r}")
    doc: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = time_to_text(value)
        elif isinstance(value, tuple):
            value = list(value)
        doc[f.name] = value
    return doc


def record_from_doc(cls: type[T], doc: typing.Mapping[str, Any], where: str) -> T:
    """The dataclass a document holds; keys the dataclass lacks are ignored, missing ones
    take their defaults (so records written before a field was added still load)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in doc:
            continue
        value = doc[f.name]
        try:
            if value is not None and datetime in _types_in(hints[f.name]):
                value = time_from_text(value)
            elif isinstance(value, list):
                value = tuple(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{where}: field {f.name!r} is malformed ({exc})") from exc
        values[f.name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise StoreError(f"{where}: record is malformed ({exc})") from exc


def time_to_text(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"times must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC).isoformat()


def time_from_text(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"expected an ISO time, got {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without a time zone: {text!r}")
    return moment.astimezone(UTC)


def _types_in(hint: Any) -> set[Any]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return set(typing.get_args(hint))
    return {hint}


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)
