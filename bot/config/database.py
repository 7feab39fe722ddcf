"""Which database holds newsbot's state: ``NEWSBOT_DATABASE_URL`` or ``[store] database_url``.

Neither set (the default): everything stays in the data folder. The settings file must not
hold a password; libpq takes it from the URL in the environment, ``PGPASSWORD`` or
``~/.pgpass``. Pure: the environment and the settings' value in, the URL (or None) out, or
``ConfigFileError`` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.errors import ConfigFileError

ENV_URL = "NEWSBOT_DATABASE_URL"
SETTINGS_KEY = "[store] database_url"
SCHEMES = ("postgresql", "postgres")


def database_url(environ: Mapping[str, str], settings_url: str = "") -> str | None:
    """The database URL in force: the environment's, else the settings key's, else None."""
    url = (environ.get(ENV_URL) or "").strip()
    if url:
        _check(url, ENV_URL, allow_password=True)
        return url
    url = settings_url.strip()
    if url:
        _check(url, SETTINGS_KEY, allow_password=False)
        return url
    return None


def describe(url: str) -> str:
    """The URL with its password blanked, for logs and messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@", 1)).geturl()


def _check(url: str, where: str, *, allow_password: bool) -> None:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError as exc:
        raise ConfigFileError([f"{where} is not a valid URL ({exc})"]) from None
    if parts.scheme not in SCHEMES:
        raise ConfigFileError(
            [f"{where} must be a postgresql:// URL, e.g. postgresql://newsbot@db.example/newsbot"]
        )
    if password is not None and not allow_password:
        raise ConfigFileError(
            [
                f"{where} holds a password: keep it out of the settings file and give it in "
                f"{ENV_URL}, PGPASSWORD or ~/.pgpass instead"
            ]
        )
