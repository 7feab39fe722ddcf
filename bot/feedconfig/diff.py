"""What changed between two feed lists (pure): added, removed, changed, renamed.

A feed matched by name (any case) whose fields differ is *changed*; a feed that kept its
address (``url_key``) under a new name is *renamed*, so its history can move with it
(``Store.rename_feed``) instead of it being treated as new. ``pending_renames`` finds the
renames the store has not caught up with, from the stored feed states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from bot.config import FeedConfig
from bot.feedconfig.text import url_key
from bot.models import FeedState


@dataclass(frozen=True, slots=True)
class FeedChange:
    """One feed kept across the change, with the fields that differ (``name``: renamed)."""

    before: FeedConfig
    after: FeedConfig
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """The difference between the feeds in force and a new list (``feeds``)."""

    feeds: tuple[FeedConfig, ...]
    added: tuple[FeedConfig, ...] = ()
    removed: tuple[FeedConfig, ...] = ()
    changed: tuple[FeedChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def renamed(self) -> tuple[tuple[str, str], ...]:
        """(old name, new name) of every renamed feed."""
        return tuple((c.before.name, c.after.name) for c in self.changed if "name" in c.fields)


def diff_feeds(before: Sequence[FeedConfig], after: Sequence[FeedConfig]) -> FeedChanges:
    """What changed from ``before`` to ``after``: matched by name (any case), then by
    address (a rename); the rest were added or removed."""
    old_by_name = {f.name.casefold(): f for f in before}
    pairs: list[tuple[FeedConfig, FeedConfig]] = []
    unmatched_new: list[FeedConfig] = []
    for feed in after:
        old = old_by_name.pop(feed.name.casefold(), None)
        if old is None:
            unmatched_new.append(feed)
        else:
            pairs.append((old, feed))
    old_by_url = {url_key(f.url): f for f in old_by_name.values()}
    added = []
    for feed in unmatched_new:
        old = old_by_url.pop(url_key(feed.url), None)
        if old is None:
            added.append(feed)
        else:
            pairs.append((old, feed))
    removed = tuple(f for f in before if f in old_by_url.values())
    changed = []
    for old, new in pairs:
        differing = tuple(
            f.name for f in fields(FeedConfig) if getattr(old, f.name) != getattr(new, f.name)
        )
        if differing:
            changed.append(FeedChange(old, new, differing))
    order = {f.name: i for i, f in enumerate(after)}
    changed.sort(key=lambda c: order[c.after.name])
    return FeedChanges(tuple(after), tuple(added), removed, tuple(changed))


def describe_changes(
    changes: FeedChanges, default_interval_minutes: int | None = None
) -> list[str]:
    """One line per change, for admins (plain text; the bot escapes it)."""
    lines = [f"added {f.name} ({f.url})" for f in changes.added]
    lines += [f"removed {f.name}" for f in changes.removed]
    for change in changes.changed:
        old, new = change.before, change.after
        parts = []
        if "name" in change.fields:
            parts.append(f"renamed from {old.name}")
        if "enabled" in change.fields:
            parts.append("resumed" if new.enabled else "paused")
        if "interval_minutes" in change.fields:
            parts.append(
                f"interval {_interval(old, default_interval_minutes)} → "
                f"{_interval(new, default_interval_minutes)}"
            )
        if "url" in change.fields:
            parts.append(f"address now {new.url}")
        if "topic" in change.fields:
            parts.append(f"topic {old.topic or '(none)'} → {new.topic or '(none)'}")
        if "tags" in change.fields:
            parts.append(f"tags {', '.join(new.tags) or '(none)'}")
        lines.append(f"{new.name}: {', '.join(parts)}")
    return lines


def _interval(feed: FeedConfig, default: int | None) -> str:
    if feed.interval_minutes is not None:
        return f"{feed.interval_minutes} min"
    return f"default ({default} min)" if default is not None else "default"


def pending_renames(
    feeds: Sequence[FeedConfig], states: Mapping[str, FeedState]
) -> list[tuple[str, str]]:
    """Renames the store has not caught up with (the file was changed while newsbot was
    down, or it stopped midway): a stored state under a name the file no longer has, whose
    address a configured feed without a state of its own now carries. Run
    ``Store.rename_feed`` for each at start."""
    configured = {f.name for f in feeds}
    orphans = {url_key(s.url): name for name, s in states.items() if name not in configured}
    renames = []
    for feed in feeds:
        old = orphans.pop(url_key(feed.url), None)
        if old is not None and feed.name not in states:
            renames.append((old, feed.name))
    return renames
