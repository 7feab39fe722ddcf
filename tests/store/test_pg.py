"""PostgreSQL as the store: which database, the missing extra, migrations at start."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from bot.config import load_config
from bot.config.database import database_url, describe
from bot.errors import ConfigFileError, StoreError
from bot.store.pg import Database
from bot.store.pgarchive import PgStore
from bot.store.pgschema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


def config_dir(tmp_path: Path, store_lines: str = "") -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "feeds.toml").write_text("")
    (folder / "settings.toml").write_text(f"[store]\n{store_lines}\n")
    return folder


def test_without_a_url_the_data_folder_keeps_everything(tmp_path: Path) -> None:
    """Nothing set: no database, as before."""
    config = load_config({"NEWSBOT_CONFIG": str(config_dir(tmp_path))}, cwd=tmp_path)
    assert config.database_url is None


def test_the_environment_wins_over_the_settings_key(tmp_path: Path) -> None:
    """Either is enough; the environment's URL wins (it may carry the password)."""
    folder = config_dir(tmp_path, 'database_url = "postgresql://newsbot@db.example/newsbot"')
    config = load_config({"NEWSBOT_CONFIG": str(folder)}, cwd=tmp_path)
    assert config.database_url == "postgresql://newsbot@db.example/newsbot"
    env = {"NEWSBOT_CONFIG": str(folder), "NEWSBOT_DATABASE_URL": "postgresql://u:pw@h/db"}
    assert load_config(env, cwd=tmp_path).database_url == "postgresql://u:pw@h/db"


def test_a_password_in_the_settings_file_is_refused_when_loading(tmp_path: Path) -> None:
    """The settings file is no place for a secret: the error says where to put it."""
    folder = config_dir(tmp_path, 'database_url = "postgresql://newsbot:secret@db/newsbot"')
    with pytest.raises(ConfigFileError, match="PGPASSWORD") as error:
        load_config({"NEWSBOT_CONFIG": str(folder)}, cwd=tmp_path)
    assert "secret" not in str(error.value)


@pytest.mark.parametrize("url", ["mysql://db/newsbot", "db.example/newsbot", "sqlite:///x"])
def test_a_url_that_is_not_postgresql_is_refused(url: str) -> None:
    with pytest.raises(ConfigFileError, match="postgresql://"):
        database_url({"NEWSBOT_DATABASE_URL": url})


def test_logs_never_show_the_password() -> None:
    assert describe("postgresql://u:hunter2@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert describe("postgresql://u@h/db") == "postgresql://u@h/db"


def test_without_psycopg_the_error_is_one_line_naming_the_extra() -> None:
    """A URL set but the extra not installed: one clear line, not a traceback."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from bot.errors import ConfigError\n"
        "from bot.store.pg import Database\n"
        "try:\n"
        "    Database.open('postgresql://newsbot@/newsbot')\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == (
        "NEWSBOT_DATABASE_URL (or [store] database_url) is set but psycopg is not installed: "
        "install the PostgreSQL extra: pip install 'newsbot[postgres]'"
    )


def test_migrations_apply_once_when_processes_start_together(pg_empty_url: str) -> None:
    """Eight processes opening a new database at once: the schema is built once, all start."""
    with ThreadPoolExecutor(8) as pool:
        databases = list(pool.map(lambda _: Database.open(pg_empty_url, max_size=1), range(8)))
    for db in databases:
        db.close()
    with psycopg.connect(pg_empty_url) as conn:
        versions = conn.execute("SELECT version FROM newsbot_schema ORDER BY version").fetchall()
        role = conn.execute(
            "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert role.fetchone() == (False, False)  # owning the database is enough
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_database_from_a_newer_newsbot_is_refused(pg_url: str) -> None:
    """Data written by a newer schema is never opened (nor changed) by an older newsbot."""
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO newsbot_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this newsbot understands"):
        Database.open(pg_url)


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://newsbot:hunter2@/newsbot?host={tmp_path}"
    with pytest.raises(StoreError, match="cannot use the database") as error:
        Database.open(url)
    assert "hunter2" not in str(error.value)


def test_a_password_in_the_settings_key_is_refused_but_not_in_the_environment() -> None:
    """The settings file is no place for a secret: the error says where to put it."""
    with pytest.raises(ConfigFileError, match="PGPASSWORD") as error:
        database_url({}, "postgresql://newsbot:secret@db/newsbot")
    assert "secret" not in str(error.value)
    env = {"NEWSBOT_DATABASE_URL": "postgresql://u:pw@h/db"}
    assert database_url(env, "postgresql://other@h/db") == "postgresql://u:pw@h/db"
    assert database_url({}) is None


def test_two_processes_never_hold_the_same_feed_and_dead_claims_expire(
    pg_database: Database,
) -> None:
    """Claims split the feeds; a claim not released (its process died) lapses after its
    lease, and then another process gets the feed."""
    one, two = PgStore(pg_database), PgStore(pg_database)
    names = [f"feed {n}" for n in range(10)]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(
            lambda args: args[0].claim_feeds(names, args[1], 60.0), [(one, "a"), (two, "b")]
        )
    assert not first & second
    assert first | second == set(names)
    assert two.claim_feeds(names, "b", 60.0) == second  # renewing its own claims
    one.release_feeds(sorted(first), "a")
    assert two.claim_feeds(names, "b", 60.0) == set(names)
    assert one.claim_feeds(["feed 0"], "a", 60.0) == set()
    two.release_feeds(names, "b")
    assert one.claim_feeds(["feed 0"], "a", 0.0) == {"feed 0"}  # "a" dies holding it
    assert two.claim_feeds(["feed 0"], "b", 60.0) == {"feed 0"}  # its lease has lapsed
