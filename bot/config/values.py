"""The checks every configuration file shares: TOML in, typed values out, and messages that
name the key and say what is allowed."""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config.lines import KeyLines
from bot.errors import ConfigFileError

WEEK_MINUTES = 7 * 24 * 60
MAX_NAME_CHARS = 80


def number_field(default: float, low: float, high: float, what: str = "") -> Any:
    return field(default=default, metadata={"min": low, "max": high, "what": what})


def text_field(default: str, *, choices: tuple[str, ...] = (), url: bool = False) -> Any:
    """A text setting; ``choices`` limits its values, ``url`` makes it an http(s) address or
    empty (not set)."""
    return field(default=default, metadata={"choices": choices, "url": url})


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigFileError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError([f"{source}: not valid TOML: {exc}"]) from None


def build_section(
    cls: Any,
    table: dict[str, Any],
    section: str,
    source: str,
    lines: KeyLines,
    problems: list[str],
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        line = lines.line(section, key=key) or lines.line(section)
        where = f"{source}, line {line}, [{section}] {key}"
        if key not in fields:
            problems.append(
                f"{source}, line {line}: unknown key [{section}] {key}{allowed(key, fields)}"
            )
            continue
        problem = check_value(value, hints[key], fields[key].metadata)
        if problem:
            problems.append(f"{where}: {problem}, got {show(value)}")
        elif hints[key] in (tuple[str, ...], tuple[int, ...]):
            values[key] = tuple(value)
        else:
            values[key] = float(value) if hints[key] is float else value
    return cls(**values)


def check_value(value: Any, hint: Any, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with a setting's value, or None."""
    if hint is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if hint == tuple[int, ...]:
        if not isinstance(value, list) or not all(is_user_id(v) for v in value):
            return "must be a list of Telegram user ids (positive whole numbers), like [123456789]"
        return None
    if hint == tuple[str, ...]:
        if not isinstance(value, list) or any(check_value(v, str, {}) for v in value):
            return 'must be a list of non-empty text, like ["08:00", "18:30"]'
        return None
    if hint is str and meta.get("url"):
        return None if value == "" else check_url(value)
    if hint is str and meta.get("choices"):
        if value not in meta["choices"]:
            return "must be " + " or ".join(f'"{c}"' for c in meta["choices"])
        return None
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text in quotes"
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return "must not contain control characters"
        return None
    low, high = meta["min"], meta["max"]
    if hint is int:
        kind = "a whole number"
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        kind = "a number"
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        return f"must be {kind} from {low:g} to {high:g}"
    return None


def is_user_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53


def check_name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text in quotes"
    if len(value) > MAX_NAME_CHARS:
        return f"must be at most {MAX_NAME_CHARS} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "must not contain control characters"
    return None


def check_url(value: object) -> str | None:
    message = "must be an http:// or https:// address with a host name"
    if not isinstance(value, str):
        return message
    value = value.strip()
    if any(c.isspace() or ord(c) < 32 for c in value):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return message
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        return message
    return None


def url_key(url: str) -> str:
    """A url as compared for duplicates: scheme and host case-insensitive, no fragment."""
    parts = urlsplit(url)
    return parts._replace(
        scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), fragment=""
    ).geturl()


def allowed(key: str, known: Sequence[str] | Mapping[str, Any]) -> str:
    names = list(known)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{hint}; allowed: {', '.join(names)}"


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
