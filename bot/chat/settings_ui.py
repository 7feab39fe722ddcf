"""The /settings and /feeds screens and what their buttons change: pure, prefs in, prefs out.

A screen is HTML text and rows of (label, callback data) buttons; bot.chat.commands turns it into
a Telegram message with an inline keyboard.

Feeds a chat reads: every feed when it picked none (``ChatPrefs.is_all_feeds``), else the
feeds it picked plus every feed of the topics it picked (feeds added to a topic later too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.chat.buttons import (
    ITEM_PRESETS,
    TIME_PRESETS,
    ZONE_PRESETS,
    AllFeeds,
    Button,
    CloseMenu,
    SetEmpty,
    SetItems,
    SetPreview,
    SetTimes,
    SetZone,
    ShowScreen,
    ToggleFeed,
    encode_button,
    name_key,
)
from bot.config import FeedConfig
from bot.delivery.prefs import ChatPrefs, EmptyDigest, LinkPreview, describe_schedule, reads
from bot.delivery.telegram_html import escape_text
from bot.errors import PrefsError
from bot.timezones import describe_timezone

Row = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    rows: tuple[Row, ...] = ()


def _row(*buttons: tuple[str, Button]) -> Row:
    return tuple((label, encode_button(button)) for label, button in buttons)


def _back() -> Row:
    return _row(("« Back", ShowScreen("main")))


def describe_prefs(prefs: ChatPrefs) -> str:
    """The chat's settings in a few lines (HTML)."""
    zone = escape_text(describe_timezone(prefs.time_zone))
    empty = "a short note" if prefs.empty_digest is EmptyDigest.NOTICE else "nothing"
    lines = [
        f"Digests: {describe_schedule(prefs.schedule)} ({zone})",
        f"Items per digest: {prefs.items_per_digest}",
        f"Feeds: {_describe_feeds(prefs)}",
        f"When there is no news: {empty}",
        f"Link previews: {PREVIEW_LABELS[prefs.link_preview].lower()}",
    ]
    if not prefs.active:
        lines.append("<i>Paused: send /start to get digests again.</i>")
    return "\n".join(lines)


def _describe_feeds(prefs: ChatPrefs) -> str:
    if prefs.is_all_feeds:
        return "all"
    picked = [f"topic {t}" for t in prefs.topics] + list(prefs.feeds)
    shown = ", ".join(escape_text(p) for p in picked[:6])
    return shown + (f" +{len(picked) - 6}" if len(picked) > 6 else "")


def main_screen(prefs: ChatPrefs) -> Screen:
    text = f"<b>Settings</b>\n{describe_prefs(prefs)}\n\nWhat would you like to change?"
    return Screen(
        text,
        (
            _row(("🕗 Digest times", ShowScreen("times")), ("🌐 Time zone", ShowScreen("zone"))),
            _row(("🔢 Items", ShowScreen("items")), ("📰 Feeds & topics", ShowScreen("feeds"))),
            _row(("💤 Empty digests", ShowScreen("empty")), ("🖼 Previews", ShowScreen("previews"))),
            _row(("✔ Done", CloseMenu())),
        ),
    )


def times_screen(prefs: ChatPrefs) -> Screen:
    text = (
        f"<b>Digest times</b> · now {describe_schedule(prefs.schedule)} "
        f"({escape_text(describe_timezone(prefs.time_zone))})\n"
        "Pick one, or send your own: <code>/settings times 08:00 18:30</code>, "
        "<code>/settings times every 4h from 07:00</code> or <code>/settings times off</code>."
    )
    presets = [(label, SetTimes(key)) for key, (label, _) in TIME_PRESETS.items()]
    rows = [_row(*presets[i : i + 2]) for i in range(0, len(presets), 2)]
    return Screen(text, (*rows, _back()))


def zone_screen(prefs: ChatPrefs) -> Screen:
    text = (
        f"<b>Time zone</b> · now {escape_text(describe_timezone(prefs.time_zone))}\n"
        "Pick one, or send yours: <code>/timezone Asia/Karachi</code> (a city or UTC+5 works too)."
    )
    zones = [(zone, SetZone(zone)) for zone in ZONE_PRESETS]
    rows = [_row(*zones[i : i + 2]) for i in range(0, len(zones), 2)]
    return Screen(text, (*rows, _back()))


def items_screen(prefs: ChatPrefs) -> Screen:
    text = (
        f"<b>Items per digest</b> · now {prefs.items_per_digest}\n"
        "Pick one, or send <code>/settings items 12</code>."
    )
    counts = [
        (("• " if n == prefs.items_per_digest else "") + str(n), SetItems(n)) for n in ITEM_PRESETS
    ]
    return Screen(text, (_row(*counts[:3]), _row(*counts[3:]), _back()))


def empty_screen(prefs: ChatPrefs) -> Screen:
    text = "<b>When a digest has no news</b>, should I send a short note or stay silent?"
    mark = {e: "• " if prefs.empty_digest is e else "" for e in EmptyDigest}
    return Screen(
        text,
        (
            _row(
                (mark[EmptyDigest.NOTICE] + "Short note", SetEmpty(EmptyDigest.NOTICE)),
                (mark[EmptyDigest.SILENT] + "Silence", SetEmpty(EmptyDigest.SILENT)),
            ),
            _back(),
        ),
    )


PREVIEW_LABELS = {
    LinkPreview.BELOW: "Below the text",
    LinkPreview.ABOVE: "Above the text",
    LinkPreview.OFF: "Off",
}


def previews_screen(prefs: ChatPrefs) -> Screen:
    text = (
        "<b>Link previews</b>: each digest message can show its top story's picture and "
        "summary, large, above or below the text. Or send <code>/settings previews off</code>."
    )
    marked = [
        (("• " if prefs.link_preview is mode else "") + label, SetPreview(mode))
        for mode, label in PREVIEW_LABELS.items()
    ]
    return Screen(text, (_row(*marked), _back()))


def feeds_screen(prefs: ChatPrefs, feeds: Sequence[FeedConfig], *, back: bool = True) -> Screen:
    """Topics and feeds with ✅ where the chat reads them; a press toggles one."""
    enabled = [f for f in feeds if f.enabled]
    topics = sorted({f.topic for f in enabled if f.topic})
    lines = [f"<b>Feeds & topics</b> · reading {_describe_feeds(prefs)}"]
    lines.append("Press one to subscribe or unsubscribe.")
    rows: list[Row] = []
    for topic in topics:
        mark = "✅" if _reads_topic(prefs, topic, enabled) else "▫️"
        rows.append(_row((f"{mark} topic: {topic}", ToggleFeed(True, name_key(topic)))))
    for feed in enabled:
        mark = "✅" if reads(prefs, feed.name, feed.topic) else "▫️"
        rows.append(_row((f"{mark} {feed.name}", ToggleFeed(False, name_key(feed.name)))))
    if not prefs.is_all_feeds:
        rows.append(_row(("All feeds", AllFeeds())))
    rows.append(_back() if back else _row(("✔ Done", CloseMenu())))
    return Screen("\n".join(lines), tuple(rows))


def screen(name: str, prefs: ChatPrefs, feeds: Sequence[FeedConfig]) -> Screen:
    """The settings screen called ``name`` (bot.chat.buttons.SCREENS)."""
    if name == "times":
        return times_screen(prefs)
    if name == "zone":
        return zone_screen(prefs)
    if name == "items":
        return items_screen(prefs)
    if name == "feeds":
        return feeds_screen(prefs, feeds)
    if name == "empty":
        return empty_screen(prefs)
    if name == "previews":
        return previews_screen(prefs)
    return main_screen(prefs)


# -- feed selection ----------------------------------------------------------------------


def _reads_topic(prefs: ChatPrefs, topic: str, feeds: Sequence[FeedConfig]) -> bool:
    if topic in prefs.topics or prefs.is_all_feeds:
        return True
    members = [f for f in feeds if f.topic == topic]
    return bool(members) and all(f.name in prefs.feeds for f in members)


def find_name(key: str, *, is_topic: bool, feeds: Sequence[FeedConfig]) -> str | None:
    """The feed or topic name a button key stands for, in the configuration in force."""
    names = (
        {f.topic for f in feeds if f.topic and f.enabled}
        if is_topic
        else {f.name for f in feeds if f.enabled}
    )
    return next((n for n in sorted(names) if name_key(n) == key), None)


def toggle(
    prefs: ChatPrefs, name: str, *, is_topic: bool, feeds: Sequence[FeedConfig], now: datetime
) -> ChatPrefs:
    """The prefs with a feed or topic switched on or off; raises PrefsError when that would
    leave the chat reading nothing."""
    enabled = [f for f in feeds if f.enabled]
    # Work on the explicit set of feed names the chat reads, then pick topics back out.
    reading = {f.name for f in enabled if reads(prefs, f.name, f.topic)}
    topics = set(prefs.topics) if not prefs.is_all_feeds else {f.topic for f in enabled if f.topic}
    members = {f.name for f in enabled if (f.topic == name if is_topic else f.name == name)}
    is_on = (_reads_topic(prefs, name, enabled)) if is_topic else name in reading
    if is_on:
        reading -= members
        if is_topic:
            topics.discard(name)
        else:
            topics -= {f.topic for f in enabled if f.name == name and f.topic}
    else:
        reading |= members
        if is_topic:
            topics.add(name)
    if not reading:
        raise PrefsError("That would leave no feeds at all; pick another one first.")
    if reading == {f.name for f in enabled}:
        return prefs.changed(now, feeds=(), topics=())
    covered = {f.name for f in enabled if f.topic in topics}
    return prefs.changed(now, feeds=tuple(reading - covered), topics=tuple(topics))
