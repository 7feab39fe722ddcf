"""Time zone names as chat users type them, resolved to the IANA names zoneinfo knows."""

from __future__ import annotations

import difflib
import functools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from bot.errors import PrefsError

UTC_NAME = "UTC"
MAX_EAST_H = 14  # Etc/GMT-14, the easternmost fixed offset the database has
MAX_WEST_H = 12  # Etc/GMT+12
_MAX_INPUT_CHARS = 64
_CLOSE = 0.75  # how similar a near miss must be to be suggested (difflib ratio)

# Files zoneinfo may list that are not places anybody lives.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_UTC_ALIASES = frozenset(
    {"utc", "gmt", "z", "zulu", "universal", "uct", "greenwich", "gmt0", "gmt+0", "gmt-0"}
)
_OFFSET = re.compile(r"(?:utc|gmt)?_?([+-])_?(\d{1,2})(?::?(\d{2}))?")
_USAGE = "Send a name like Europe/Berlin or Asia/Karachi, or an offset like UTC+5."


def parse_timezone(text: str) -> str:
    """The IANA name a chat user means by ``text``; raises PrefsError with advice when unclear.

    Accepts exact names, any letter case, spaces for underscores, a city alone ("Karachi"),
    UTC/GMT, and whole-hour offsets ("UTC+5", "+05:00"), which become a fixed zone such as
    "Etc/GMT-5" (the database's Etc signs are inverted: Etc/GMT-5 is five hours east).
    """
    raw = text.strip()
    if not raw:
        raise PrefsError(f"Which time zone? {_USAGE}")
    if len(raw) > _MAX_INPUT_CHARS or not raw.isprintable():
        raise PrefsError(f"That is not a time zone name. {_USAGE}")
    key = re.sub(r"\s+", "_", raw.replace("\u2212", "-")).lower()
    if key in _UTC_ALIASES or key.removeprefix("etc/") in _UTC_ALIASES:
        return UTC_NAME
    offset = _OFFSET.fullmatch(key)
    if offset:
        return _fixed_offset_zone(raw, offset)
    if raw in zone_names():
        return raw
    exact = _by_folded_name().get(key)
    if exact:
        return exact
    cities = _by_city().get(key, ())
    if len(cities) == 1 or (cities and _keep_the_same_time(cities)):
        # Alternatives that keep the same time are aliases ("America/Buenos_Aires" of
        # "America/Argentina/Buenos_Aires"): the most specific name is the current one.
        return max(cities, key=lambda name: (name.count("/"), name))
    if cities:
        raise PrefsError(f"“{raw}” could be {_or_list(cities)}. Send the full name.")
    raise PrefsError(_unknown_message(raw, key))


def describe_timezone(name: str) -> str:
    """How a zone reads in a chat: fixed offsets as "UTC+5", places by their IANA name."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", name)
    if match is None:
        return name
    sign = "-" if match.group(1) == "+" else "+"
    return f"UTC{sign}{int(match.group(2))}"


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's time zone database offers."""
    return frozenset(available_timezones() - _NOT_ZONES)


@functools.cache
def _by_folded_name() -> dict[str, str]:
    return {name.lower(): name for name in sorted(zone_names())}


@functools.cache
def _by_city() -> dict[str, tuple[str, ...]]:
    cities: dict[str, list[str]] = {}
    for name in sorted(zone_names()):
        if "/" in name and not name.startswith("Etc/"):
            cities.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    return {city: tuple(names) for city, names in cities.items()}


@functools.cache
def _keep_the_same_time(names: tuple[str, ...]) -> bool:
    """Whether the zones' clocks agreed at every probe, monthly from 1990 to 2039."""
    probes = [datetime(year, month, 15, 12) for year in range(1990, 2040) for month in range(1, 13)]
    zones = [ZoneInfo(name) for name in names]
    return all(len({probe.replace(tzinfo=z).utcoffset() for z in zones}) == 1 for probe in probes)


def _fixed_offset_zone(raw: str, match: re.Match[str]) -> str:
    sign, hours_text, minutes_text = match.groups()
    hours, minutes = int(hours_text), int(minutes_text or 0)
    east = sign == "+"
    if minutes >= 60:
        raise PrefsError(f"“{raw}” is not an offset: minutes run from 00 to 59. {_USAGE}")
    if hours > (MAX_EAST_H if east else MAX_WEST_H) or (minutes and hours >= MAX_EAST_H):
        raise PrefsError(f"Offsets run from UTC-{MAX_WEST_H} to UTC+{MAX_EAST_H}. {_USAGE}")
    if minutes:
        places = _zones_at_offset(timedelta(hours=hours, minutes=minutes) * (1 if east else -1))
        hint = f", such as {_or_list(places)}" if places else ""
        raise PrefsError(
            f"There is no fixed zone for UTC{sign}{hours:02d}:{minutes:02d}; "
            f"send the name of your place's zone instead{hint}."
        )
    if hours == 0:
        return UTC_NAME
    # The Etc area inverts the sign (POSIX style): UTC+5 is Etc/GMT-5.
    return f"Etc/GMT{'-' if east else '+'}{hours}"


@functools.cache
def _zones_at_offset(offset: timedelta) -> tuple[str, ...]:
    """Places whose clocks stand at ``offset`` all year (mid-January and mid-July 2025)."""
    probes = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))  # wall times
    found = [
        name
        for name in sorted(zone_names())
        if "/" in name
        and not name.startswith("Etc/")
        and all(probe.replace(tzinfo=ZoneInfo(name)).utcoffset() == offset for probe in probes)
    ]
    return tuple(found[:3])


def _unknown_message(raw: str, key: str) -> str:
    folded = _by_folded_name()
    cities = _by_city()
    scored: list[tuple[float, str]] = []
    for candidate in (*folded, *cities):
        matcher = difflib.SequenceMatcher(None, key, candidate)
        if matcher.real_quick_ratio() >= _CLOSE and matcher.quick_ratio() >= _CLOSE:
            score = matcher.ratio()
            if score >= _CLOSE:
                scored.append((score, candidate))
    best = max((score for score, _ in scored), default=0.0)
    names: list[str] = []
    # Only the guesses about as close as the best: "Berln" is Berlin, not also Dublin.
    for _, guess in sorted((item for item in scored if item[0] >= best - 0.05), reverse=True):
        for name in (folded[guess],) if guess in folded else cities[guess]:
            if name not in names:
                names.append(name)
    shown = raw if len(raw) <= 40 else raw[:39] + "…"
    if names:
        return f"Unknown time zone “{shown}”. Did you mean {_or_list(names[:3])}?"
    return f"Unknown time zone “{shown}”. {_USAGE}"


def _or_list(names: tuple[str, ...] | list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
