"""Times of day as chat users type them ("08:00", "8:30pm", "noon"): shared by the settings
check at load and by a chat's digest schedule."""

from __future__ import annotations

import re
from datetime import time

from bot.errors import PrefsError

TIMES_USAGE = (
    "Send times like 08:00 18:30 or 8am, 6pm; “every 6h” (or “every 6h from 07:00”); or “off”."
)
# Room for the most a schedule holds (24 times) in the longest way people write one:
# "12:00 a.m., " is 12 characters, 24 of them 288.
_MAX_INPUT_CHARS = 320


def parse_time(text: str) -> time:
    """One local time of day: "08:00", "8:30pm", "8am", "20h", "0830", "noon", "midnight"."""
    return parse_time_word(normalise_times(text))


def normalise_times(text: str) -> str:
    """Lower-cased words of a schedule, am/pm joined to their number; PrefsError if unreadable."""
    if len(text) > _MAX_INPUT_CHARS or not text.replace("\n", " ").isprintable():
        raise PrefsError(f"That is not a schedule I can read. {TIMES_USAGE}")
    words = " ".join(text.lower().split())
    words = re.sub(r"\b([ap])\.?m\.?(?=\W|$)", r"\1m", words)
    return re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", words)


def parse_time_word(word: str) -> time:
    """One normalised word as a time of day; PrefsError with advice otherwise."""
    named = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
    if word in named:
        return named[word]
    match = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?([ap]m|h)?|(\d{2})(\d{2})", word)
    if match is None:
        raise PrefsError(f"“{_shown(word)}” is not a time I understand. {TIMES_USAGE}")
    hour_text, minute_text, suffix, hhmm_hour, hhmm_minute = match.groups()
    hour = int(hour_text or hhmm_hour)
    minute = int(minute_text or hhmm_minute or 0)
    if suffix in {"am", "pm"}:
        if not 1 <= hour <= 12:
            raise PrefsError(f"“{_shown(word)}”: with am/pm the hour runs from 1 to 12.")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        hint = " (midnight is 00:00)" if (hour, minute) == (24, 0) else ""
        raise PrefsError(f"“{_shown(word)}” is not a time of day{hint}. {TIMES_USAGE}")
    return time(hour, minute)


def _shown(word: str) -> str:
    return word if len(word) <= 20 else word[:19] + "…"
