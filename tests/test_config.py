"""Configuration: the shipped files, every class of mistake, environment overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import (
    Config,
    FeedConfig,
    Settings,
    load_config,
    parse_feeds,
    parse_settings,
)
from bot.errors import ConfigError, ConfigFileError

ROOT = Path(__file__).resolve().parents[1]

GOOD_FEEDS = """\
[[feeds]]
name = "BBC World"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"
topic = "world"
tags = ["uk", "world"]

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
interval_minutes = 15
enabled = false
"""


def problems_of(kind: str, text: str) -> tuple[str, ...]:
    parse = parse_settings if kind == "settings" else parse_feeds
    with pytest.raises(ConfigFileError) as caught:
        parse(text, f"conf/{kind}.toml")
    return caught.value.problems


def write_config(folder: Path, settings: str | None = "", feeds: str | None = GOOD_FEEDS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if settings is not None:
        (folder / "settings.toml").write_text(settings, encoding="utf-8")
    if feeds is not None:
        (folder / "feeds.toml").write_text(feeds, encoding="utf-8")
    return folder


def test_shipped_settings_list_every_key_with_its_default() -> None:
    """config/settings.toml gives the defaults and names every key a person can set."""
    text = (ROOT / "config" / "settings.toml").read_text(encoding="utf-8")
    assert parse_settings(text) == Settings()
    for section in dataclasses.fields(Settings):
        assert f"[{section.name}]" in text
        for key in dataclasses.fields(getattr(Settings(), section.name)):
            assert f"{key.name} =" in text, f"settings.toml does not mention {key.name}"


def test_shipped_feeds_are_valid_and_real_public_feeds() -> None:
    """config/feeds.toml parses and lists several well-known news feeds over https."""
    feeds = parse_feeds((ROOT / "config" / "feeds.toml").read_text(encoding="utf-8"))
    assert len(feeds) >= 5
    assert all(f.url.startswith("https://") for f in feeds)
    assert {"BBC World", "Al Jazeera", "NPR News", "Dawn"} <= {f.name for f in feeds}


def test_feeds_parse_with_defaults_for_optional_keys() -> None:
    """Optional feed keys take their defaults; lists become tuples."""
    assert parse_feeds(GOOD_FEEDS) == (
        FeedConfig(
            "BBC World", "https://feeds.bbci.co.uk/news/world/rss.xml", "world", ("uk", "world")
        ),
        FeedConfig("Dawn", "https://www.dawn.com/feeds/home", interval_minutes=15, enabled=False),
    )


def test_settings_override_only_the_keys_given() -> None:
    """A settings file with one key changes that key and leaves the rest at their defaults."""
    settings = parse_settings("[poll]\nnew_feed_backlog = 3\n[http]\nread_timeout_s = 5\n")
    assert settings.poll.new_feed_backlog == 3
    assert settings.http.read_timeout_s == 5.0
    assert isinstance(settings.http.read_timeout_s, float)
    assert settings.store == Settings().store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[poll]\ninterval_minutes = -3\n",
            ["line 2, [poll] interval_minutes", "from 1 to 10080", "-3"],
        ),
        ("[poll]\ninterval_minutes = 2.5\n", ["line 2", "whole number"]),
        (
            "[poll]\nmax_backoff_minutes = true\n",
            ["line 2, [poll] max_backoff_minutes", "whole number"],
        ),
        (
            "\n[http]\nconnect_timeout_s = 'soon'\n",
            ["line 3, [http] connect_timeout_s", "a number from 0.1"],
        ),
        ("[poll]\njitter_ratio = 0.9\n", ["line 2, [poll] jitter_ratio", "a number from 0 to 0.5"]),
        ("[http]\nread_timeout_s = nan\n", ["line 2", "read_timeout_s"]),
        ("[http]\nuser_agent = ''\n", ["line 2", "user_agent", "non-empty text"]),
        ('[http]\nuser_agent = "a\\nb"\n', ["line 2", "control characters"]),
        ("[http]\nuse_env_proxies = 'no'\n", ["line 2", "true or false"]),
        (
            "[poll]\nintervl = 4\n",
            ["line 2", "unknown key [poll] intervl", "did you mean interval_minutes?", "allowed: "],
        ),
        ("[pol]\n", ["line 1", "unknown section [pol]", "did you mean poll?"]),
        ("poll = 3\n", ["line 1", "must be a [poll] table"]),
        ("poll.interval_minutes = 0\n", ["line 1", "interval_minutes"]),
        (
            "[store]\nretention_days = 40\nseen_retention_days = 10\n",
            ["line 3, [store] seen_retention_days", "at least retention_days (40)"],
        ),
        ('[bot]\ntime_zone = "Mars/Olympus"\n', ["line 2, [bot] time_zone", "Unknown time zone"]),
        ('[bot]\ntime_zone = "karachi"\n', ["line 2", "full name, 'Asia/Karachi'"]),
        ('[bot]\ndigest_times = ["25:00"]\n', ["line 2, [bot] digest_times", "not a time"]),
        ('[bot]\ndigest_times = "08:00"\n', ["line 2", 'a list of non-empty text, like ["08:00"']),
        ("[bot]\nitems_per_digest = 0\n", ["line 2", "a whole number from 1 to 50"]),
        ('[bot]\nmode = "hook"\n', ["line 2, [bot] mode", 'must be "polling" or "webhook"']),
        ('[bot]\nmode = "webhook"\n', ["[bot] webhook_url", "needs the https:// address"]),
        ('[bot]\nwebhook_url = "ftp://x"\n', ["line 2, [bot] webhook_url", "http:// or https://"]),
        ("[metrics]\nport = 70000\n", ["line 2, [metrics] port", "a whole number from 0 to 65535"]),
        ('[metrics]\nlisten = "my host"\n', ["line 2, [metrics] listen", "not an IP address"]),
    ],
)
def test_every_settings_mistake_names_file_line_key_and_what_is_allowed(
    text: str, expected: list[str]
) -> None:
    """A bad setting is reported with its file, line, key and the allowed values."""
    (problem,) = problems_of("settings", text)
    assert problem.startswith("conf/settings.toml")
    for part in expected:
        assert part in problem


def test_bot_settings_give_chat_defaults_and_webhook_mode() -> None:
    """[bot] sets what /start gives a chat and switches to webhook mode with its address."""
    bot = parse_settings(
        '[bot]\ntime_zone = "Asia/Karachi"\ndigest_times = ["07:30", "19:00"]\n'
        'mode = "webhook"\nwebhook_url = "https://bot.example.org/hook"\n'
    ).bot
    assert bot.time_zone == "Asia/Karachi"
    assert bot.digest_times == ("07:30", "19:00")
    assert bot.mode == "webhook"
    assert bot.webhook_url == "https://bot.example.org/hook"
    assert parse_settings("[bot]\ndigest_times = []\n").bot.digest_times == ()


def test_toml_syntax_errors_carry_line_and_column() -> None:
    """A file that is not TOML says so with tomllib's line and column."""
    (problem,) = problems_of("settings", "[poll]\ninterval_minutes = = 3\n")
    assert "conf/settings.toml: not valid TOML" in problem
    assert "line 2, column" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[feeds]]\nname = "A"\nurl = "ftp://example.org/rss"\n',
            ["line 3, feed #1 url", "http:// or https://", "ftp://"],
        ),
        ('[[feeds]]\nname = "A"\nurl = "https:///rss"\n', ["line 3", "host name"]),
        ('[[feeds]]\nname = "A"\nurl = "https://exa mple.org"\n', ["line 3", "spaces"]),
        ('[[feeds]]\nname = "A"\nurl = "https://example.org:99999/"\n', ["line 3", "url"]),
        ('[[feeds]]\nname = "A"\nurl = 7\n', ["line 3", "url"]),
        ('[[feeds]]\nurl = "https://example.org/rss"\n', ["line 1, feed #1: name is missing"]),
        ('[[feeds]]\nname = "A"\n', ["line 1, feed #1: url is missing"]),
        ('[[feeds]]\nname = ""\nurl = "https://e.org/"\n', ["line 2, feed #1 name", "non-empty"]),
        (
            '[[feeds]]\nname = "A"\nurl = "https://e.org/"\ntopik = "x"\n',
            ["line 4", "unknown key", "did you mean topic?"],
        ),
        (
            '[[feeds]]\nname = "A"\nurl = "https://e.org/"\ntags = "x"\n',
            ["line 4, feed #1 tags", "list"],
        ),
        ('[[feeds]]\nname = "A"\nurl = "https://e.org/"\ntags = ["x", 3]\n', ["line 4", "tags"]),
        (
            '[[feeds]]\nname = "A"\nurl = "https://e.org/"\ninterval_minutes = 0\n',
            ["line 4", "1 to 10080"],
        ),
        (
            '[[feeds]]\nname = "A"\nurl = "https://e.org/"\nenabled = "yes"\n',
            ["line 4", "true or false"],
        ),
        ('[[feeds]]\nname = "A"\nurl = "https://e.org/"\ntopic = 5\n', ["line 4", "topic"]),
        ('title = "mine"\n', ["line 1", "unknown key title", "only [[feeds]]"]),
        ("feeds = 3\n", ["line 1", "[[feeds]] blocks"]),
    ],
)
def test_every_feed_mistake_names_file_line_key_and_what_is_allowed(
    text: str, expected: list[str]
) -> None:
    """A bad feed entry is reported with its file, line, key and the allowed values."""
    (problem,) = problems_of("feeds", text)
    assert problem.startswith("conf/feeds.toml")
    for part in expected:
        assert part in problem


@pytest.mark.parametrize(
    ("second", "key"),
    [
        ('name = "bbc world"\nurl = "https://other.example/rss"', "name"),
        ('name = "Other"\nurl = "HTTPS://FEEDS.BBCI.CO.UK/news/world/rss.xml#top"', "url"),
    ],
)
def test_duplicate_feed_names_and_urls_are_errors(second: str, key: str) -> None:
    """A second feed with the same name (any case) or address is refused, naming the first."""
    text = '[[feeds]]\nname = "BBC World"\nurl = "https://feeds.bbci.co.uk/news/world/rss.xml"\n\n'
    (problem,) = problems_of("feeds", text + "[[feeds]]\n" + second + "\n")
    assert f"feed #2 {key}: duplicate feed {key}" in problem
    assert "feed #1 has it already" in problem
    assert "line 6" in problem or "line 7" in problem


def test_all_problems_are_reported_at_once() -> None:
    """Several mistakes in one file come back together, one line each."""
    text = (
        '[[feeds]]\nname = "A"\nurl = "ftp://x"\n'
        '[[feeds]]\nname = "a"\nurl = "https://e.org"\nenabled = 1\n'
    )
    with pytest.raises(ConfigFileError) as caught:
        parse_feeds(text, "feeds.toml")
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("3 problems in the configuration:\n  - feeds.toml, line 3")


def test_environment_points_at_config_and_data(tmp_path: Path) -> None:
    """NEWSBOT_CONFIG and NEWSBOT_DATA choose the folders; relative ones are from the cwd."""
    write_config(tmp_path / "etc" / "nb", settings="[store]\ndata_dir = 'from-settings'\n")
    config = load_config({"NEWSBOT_CONFIG": "etc/nb", "NEWSBOT_DATA": "/srv/nb"}, cwd=tmp_path)
    assert config.config_dir == tmp_path / "etc" / "nb"
    assert config.data_dir == Path("/srv/nb")
    assert [f.name for f in config.feeds] == ["BBC World", "Dawn"]


@pytest.mark.parametrize(
    ("settings", "environ", "expected"),
    [
        ("", {}, "data"),
        ("[store]\ndata_dir = 'archive-here'\n", {}, "archive-here"),
        ("[store]\ndata_dir = 'archive-here'\n", {"NEWSBOT_DATA": "env-data"}, "env-data"),
        ("", {"NEWSBOT_DATA": ""}, "data"),
    ],
)
def test_data_dir_comes_from_environment_then_settings_then_default(
    tmp_path: Path, settings: str, environ: dict[str, str], expected: str
) -> None:
    """The data directory: NEWSBOT_DATA, else [store] data_dir, else ./data."""
    write_config(tmp_path / "config", settings=settings)
    assert load_config(environ, cwd=tmp_path).data_dir == tmp_path / expected


def test_defaults_when_settings_file_is_absent(tmp_path: Path) -> None:
    """Without settings.toml every default applies; the config folder defaults to ./config."""
    write_config(tmp_path / "config", settings=None)
    config = load_config({}, cwd=tmp_path)
    assert config.settings == Settings()
    assert config.interval_minutes(config.feeds[0]) == 30
    assert config.interval_minutes(config.feeds[1]) == 15
    assert config.feed("dawn") == config.feeds[1]


def test_missing_config_folder_or_feeds_file_says_what_to_do(tmp_path: Path) -> None:
    """A wrong NEWSBOT_CONFIG or a missing feeds.toml is a clear error, not an empty bot."""
    with pytest.raises(ConfigError, match="NEWSBOT_CONFIG"):
        load_config({"NEWSBOT_CONFIG": "nowhere"}, cwd=tmp_path)
    write_config(tmp_path / "config", feeds=None)
    with pytest.raises(ConfigError, match=r"feeds\.toml: missing"):
        load_config({}, cwd=tmp_path)


def test_problems_in_both_files_are_reported_together(tmp_path: Path) -> None:
    """A bad settings file and a bad feeds file give one error listing both."""
    write_config(tmp_path / "config", settings="[poll]\nx = 1\n", feeds="[[feeds]]\nname = 'A'\n")
    with pytest.raises(ConfigFileError) as caught:
        load_config({}, cwd=tmp_path)
    assert [p.split(",")[0].rsplit("/", 1)[-1] for p in caught.value.problems] == [
        "settings.toml",
        "feeds.toml",
    ]


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    """A feeds file saved in another encoding is a clear error."""
    folder = write_config(tmp_path / "config", feeds=None)
    (folder / "feeds.toml").write_bytes(b'[[feeds]]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config({}, cwd=tmp_path)


def test_bad_edit_raises_and_the_loaded_configuration_stays(tmp_path: Path) -> None:
    """Reloading after a bad edit raises ConfigError (the caller keeps what it had)."""
    folder = write_config(tmp_path / "config")
    good: Config = load_config({}, cwd=tmp_path)
    (folder / "feeds.toml").write_text(GOOD_FEEDS + "[[feeds]]\nname = 'X'\nurl = 'gopher://x'\n")
    with pytest.raises(ConfigError, match=r"feeds\.toml, line 14, feed #3 url"):
        load_config({}, cwd=tmp_path)
    assert [f.name for f in good.feeds] == ["BBC World", "Dawn"]


def test_newsbot_metrics_port_gives_each_process_its_own_port(tmp_path: Path) -> None:
    """Processes sharing a settings.toml: the environment's port wins; a bad one is named."""
    write_config(tmp_path / "config", "[metrics]\nport = 9464\n")
    assert load_config({}, cwd=tmp_path).settings.metrics.port == 9464
    environ = {"NEWSBOT_METRICS_PORT": "9465"}
    assert load_config(environ, cwd=tmp_path).settings.metrics.port == 9465
    assert load_config({"NEWSBOT_METRICS_PORT": "0"}, cwd=tmp_path).settings.metrics.port == 0
    with pytest.raises(ConfigFileError, match="NEWSBOT_METRICS_PORT: '70000' is not a port"):
        load_config({"NEWSBOT_METRICS_PORT": "70000"}, cwd=tmp_path)
