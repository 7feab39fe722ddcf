"""Admin changes to feeds.toml: comments and order kept, results validated, hand edits kept."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import FeedConfig, parse_feeds
from bot.errors import EditConflictError, FeedEditError, UnknownFeedError
from bot.feedconfig.blocks import Kind, classify
from bot.feedconfig.file import (
    add_feed,
    edit_feeds_file,
    remove_feed,
    rename_feed,
    set_enabled,
    set_interval,
)
from bot.feedconfig.text import (
    add_feeds_text,
    find_feed,
    remove_feed_text,
    rename_feed_text,
    set_enabled_text,
    set_interval_text,
    url_key,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "config" / "feeds.toml").read_text("utf-8")

COMMENTED = """\
# Our feeds. #c:top:1
#   #c:top:2

# lead of bbc #c:lead:bbc
[[feeds]]  # #c:head:bbc
name = "BBC"  # #c:name:bbc
url = "https://bbc.example/rss"
# between keys #c:inside:bbc
topic = "world"
interval_minutes = 15  # #c:interval:bbc
# right after bbc's keys #c:after:bbc

# a paragraph of its own #c:float:1

[[feeds]]
name = "Dawn"
url = "https://dawn.example/feed"
enabled = false # #c:enabled:dawn

# lead of dw #c:lead:dw
# second lead line #c:lead2:dw
[[feeds]]
name = "DW"
url = "https://dw.example/rdf"
tags = [
  "europe",  # #c:tag:dw
  "german",
]

# the end #c:end:1
"""

COMMENT = re.compile(r"#c:(\w+):(\w+)")


def comments(text: str) -> set[str]:
    return {m[0] for m in COMMENT.finditer(text)}


def feed(name: str, url: str | None = None, **changes: object) -> FeedConfig:
    base = FeedConfig(name=name, url=url or f"https://{name.lower()}.example/rss")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# -- the pure edits -------------------------------------------------------------------------


def test_pausing_sets_enabled_false_and_changes_nothing_else() -> None:
    """Pausing a feed adds one line inside its block; every other line stays as it was."""
    edited = set_enabled_text(COMMENTED, "bbc", False)

    added = [line for line in edited.text.splitlines() if line not in COMMENTED.splitlines()]
    assert added == ["enabled = false"]
    assert edited.text.index("enabled = false") < edited.text.index("#c:after:bbc")
    assert [f.enabled for f in parse_feeds(edited.text)] == [False, False, True]


def test_resuming_keeps_the_comment_on_the_enabled_line() -> None:
    """Resuming sets the value and keeps the admin's comment at its end."""
    edited = set_enabled_text(COMMENTED, "Dawn", True)
    assert "enabled = true # #c:enabled:dawn" in edited.text
    assert comments(edited.text) == comments(COMMENTED)


def test_removing_a_feed_takes_its_own_comments_and_keeps_the_others() -> None:
    """A removed feed's lead, inside and closing comments go; neighbours' and loose ones stay."""
    edited = remove_feed_text(COMMENTED, "BBC")

    bbc = {c for c in comments(COMMENTED) if c.endswith(":bbc")}
    assert comments(edited.text) == comments(COMMENTED) - bbc
    assert [f.name for f in edited.feeds] == ["Dawn", "DW"]
    assert "\n\n\n" not in edited.text


def test_removing_the_last_feed_keeps_the_closing_comment() -> None:
    """The comment at the end of the file is nobody's block."""
    edited = remove_feed_text(COMMENTED, "dw")
    assert comments(edited.text) == {c for c in comments(COMMENTED) if not c.endswith(":dw")}
    assert edited.text.rstrip().endswith("#c:end:1")


def test_interval_back_to_default_keeps_the_lines_comment() -> None:
    """Removing interval_minutes leaves the comment it carried as a line of its own."""
    edited = set_interval_text(COMMENTED, "BBC", None)
    assert "interval_minutes" not in edited.text
    assert comments(edited.text) == comments(COMMENTED)
    assert edited.feeds[0].interval_minutes is None


def test_rename_and_add_keep_every_comment_and_the_order() -> None:
    """A rename changes one value; an added feed comes last as a new block."""
    edited = rename_feed_text(COMMENTED, "bbc", "BBC World")
    edited = add_feeds_text(edited.text, [feed("NPR", topic="usa", tags=("a, b", 'q"uote'))])
    assert comments(edited.text) == comments(COMMENTED)
    assert 'name = "BBC World"  # #c:name:bbc' in edited.text
    assert [f.name for f in parse_feeds(edited.text)] == ["BBC World", "Dawn", "DW", "NPR"]
    assert parse_feeds(edited.text)[-1].tags == ("a, b", 'q"uote')


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: rename_feed_text(t, "BBC", "dw"), "a feed named 'DW' exists already"),
        (lambda t: add_feeds_text(t, [feed("New", "https://DW.example/rdf/")]), "already has"),
        (lambda t: add_feeds_text(t, [feed("bbc", "https://x.example/")]), "exists already"),
        (lambda t: set_interval_text(t, "BBC", 0), "interval_minutes: must be a whole number"),
        (lambda t: rename_feed_text(t, "BBC", "x" * 81), "at most 80 characters"),
        (lambda t: add_feeds_text(t, [feed("Bad", "ftp://x.example/")]), "http:// or https://"),
    ],
)
def test_a_change_that_would_make_the_file_invalid_is_refused(change: object, message: str) -> None:
    """Duplicates, out-of-range values and bad addresses are refused with the reason."""
    with pytest.raises(FeedEditError, match=re.escape(message)):
        change(COMMENTED)  # type: ignore[operator]


def test_a_file_with_problems_is_not_changed_by_commands() -> None:
    """A file someone is still fixing by hand is left to them."""
    with pytest.raises(FeedEditError, match="has problems"):
        set_enabled_text(COMMENTED + "\n[[feeds]]\nname = 3\n", "BBC", False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dw", "DW"),
        ("  dAwN ", "Dawn"),
        ("bbc  world", "BBC World"),
        ("BBC U", "BBC Urdu"),
        ("the", "The Guardian World"),
    ],
)
def test_feeds_are_found_by_name_in_any_case_or_by_a_unique_start(
    query: str, expected: str
) -> None:
    """An exact name wins over a prefix; a unique prefix is enough."""
    assert find_feed(parse_feeds(EXAMPLE), query).name == expected


def test_an_unknown_or_ambiguous_feed_lists_the_feeds() -> None:
    """The error names the feeds so the admin can pick."""
    feeds = parse_feeds(EXAMPLE)
    with pytest.raises(UnknownFeedError, match=r"no feed named 'Daw n'.*feeds are: BBC World"):
        find_feed(feeds, "Daw n")
    with pytest.raises(UnknownFeedError, match="could be BBC World, BBC Urdu"):
        find_feed(feeds, "bb")


def test_url_key_ignores_case_default_port_fragment_and_trailing_slash() -> None:
    """Two spellings of one address are one feed."""
    assert url_key("HTTPS://Example.ORG:443/rss/#top") == url_key("https://example.org/rss")
    assert url_key("http://example.org:8080/rss") != url_key("http://example.org/rss")


# -- any sequence of commands keeps every comment -------------------------------------------

names = (
    st.text(alphabet="abcXYZ 09'\"\\#é漢-", min_size=1, max_size=12)
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


@settings(max_examples=60)
@given(data=st.data())
def test_any_sequence_of_commands_keeps_every_comment_the_admin_wrote(
    data: st.DataObject,
) -> None:
    """After random adds, removes, pauses, renames and interval changes, every comment not
    inside a removed feed's block is still there, and the file lists the expected feeds."""
    text = COMMENTED
    model = list(parse_feeds(text))
    owners = {"BBC": "bbc", "Dawn": "dawn", "DW": "dw"}  # feed name -> its comments' tag
    removed_tags: set[str] = set()
    serial = 0
    for _ in range(data.draw(st.integers(1, 12), label="steps")):
        op = data.draw(st.sampled_from(["add", "remove", "pause", "rename", "interval"]))
        if op == "add" or not model:
            serial += 1
            new = feed(data.draw(names, label="name"), f"https://n{serial}.example/feed")
            clash = any(f.name.casefold() == new.name.casefold() for f in model)
            if clash:
                with pytest.raises(FeedEditError):
                    add_feeds_text(text, [new])
                continue
            text = add_feeds_text(text, [new]).text
            model.append(new)
            continue
        index = data.draw(st.integers(0, len(model) - 1), label="feed")
        target = model[index]
        if op == "remove":
            text = remove_feed_text(text, target.name).text
            del model[index]
            if target.name in owners:
                removed_tags.add(owners.pop(target.name))
        elif op == "pause":
            enabled = data.draw(st.booleans(), label="enabled")
            text = set_enabled_text(text, target.name, enabled).text
            model[index] = dataclasses.replace(target, enabled=enabled)
        elif op == "interval":
            minutes = data.draw(st.none() | st.integers(1, 10080), label="minutes")
            text = set_interval_text(text, target.name, minutes).text
            model[index] = dataclasses.replace(target, interval_minutes=minutes)
        else:
            new_name = data.draw(names, label="new name")
            others = model[:index] + model[index + 1 :]
            if any(f.name.casefold() == new_name.casefold() for f in others):
                with pytest.raises(FeedEditError):
                    rename_feed_text(text, target.name, new_name)
                continue
            text = rename_feed_text(text, target.name, new_name).text
            model[index] = dataclasses.replace(target, name=new_name)
            if target.name in owners:
                owners[new_name] = owners.pop(target.name)
        assert parse_feeds(text) == tuple(model)
    expected = {c for c in comments(COMMENTED) if c.rsplit(":", 1)[1] not in removed_tags}
    assert comments(text) == expected


# -- the file: atomic, and hand edits kept --------------------------------------------------


@pytest.fixture
def feeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(COMMENTED, "utf-8")
    path.chmod(0o640)
    return path


def test_commands_change_the_file_keeping_its_permissions_and_leaving_no_temp_files(
    feeds_file: Path,
) -> None:
    """Each command rewrites the file in place of the old one, same permissions."""
    set_enabled(feeds_file, "bbc", False)
    set_interval(feeds_file, "dawn", 45)
    rename_feed(feeds_file, "dw", "Deutsche Welle")
    add_feed(feeds_file, feed("NPR"))
    remove_feed(feeds_file, "npr")

    feeds = parse_feeds(feeds_file.read_text("utf-8"))
    assert [(f.name, f.enabled, f.interval_minutes) for f in feeds] == [
        ("BBC", False, 15),
        ("Dawn", False, 45),
        ("Deutsche Welle", True, None),
    ]
    assert stat.S_IMODE(feeds_file.stat().st_mode) == 0o640
    assert comments(feeds_file.read_text("utf-8")) == comments(COMMENTED)
    leftovers = [p.name for p in feeds_file.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_hand_edit_landing_between_read_and_write_is_kept(feeds_file: Path) -> None:
    """The command is applied again on top of the hand edit: both changes survive."""
    hand_edit = (
        '\n# added by hand #c:hand:npr\n[[feeds]]\nname = "NPR"\nurl = "https://npr.example/"\n'
    )
    landed: list[bool] = []

    def hand_edits_once() -> None:
        if not landed:
            with feeds_file.open("a", encoding="utf-8") as handle:
                handle.write(hand_edit)
            landed.append(True)

    result = edit_feeds_file(
        feeds_file, lambda t: set_enabled_text(t, "BBC", False), before_replace=hand_edits_once
    )

    text = feeds_file.read_text("utf-8")
    assert result.reapplied == 1
    assert [(f.name, f.enabled) for f in parse_feeds(text)] == [
        ("BBC", False),
        ("Dawn", False),
        ("DW", True),
        ("NPR", True),
    ]
    assert comments(text) == comments(COMMENTED) | {"#c:hand:npr"}


def test_a_command_that_no_longer_applies_after_a_hand_edit_is_refused(
    feeds_file: Path,
) -> None:
    """The feed was removed by hand meanwhile: the command is refused, the hand edit stays."""
    by_hand = remove_feed_text(COMMENTED, "BBC").text

    def remove_by_hand() -> None:
        feeds_file.write_text(by_hand, "utf-8")

    with pytest.raises(EditConflictError, match="edited by hand while the command ran"):
        edit_feeds_file(
            feeds_file, lambda t: set_enabled_text(t, "BBC", False), before_replace=remove_by_hand
        )
    assert feeds_file.read_text("utf-8") == by_hand


def test_a_file_that_keeps_changing_is_not_overwritten(feeds_file: Path) -> None:
    """When every re-read finds a new hand edit, the command gives up and writes nothing."""
    count: list[int] = []

    def edit_every_time() -> None:
        count.append(1)
        with feeds_file.open("a", encoding="utf-8") as handle:
            handle.write(f"# hand edit {len(count)}\n")

    with pytest.raises(EditConflictError, match="kept changing"):
        edit_feeds_file(
            feeds_file, lambda t: set_enabled_text(t, "BBC", False), before_replace=edit_every_time
        )
    text = feeds_file.read_text("utf-8")
    assert "enabled = false\n# right after" not in text
    assert text.endswith("# hand edit 3\n")


def test_adding_to_a_missing_file_creates_it(tmp_path: Path) -> None:
    """The first feed can be added before feeds.toml exists."""
    path = tmp_path / "feeds.toml"
    add_feed(path, feed("BBC"))
    assert parse_feeds(path.read_text("utf-8")) == (feed("BBC"),)


def test_a_linked_feeds_file_is_changed_where_it_lives(tmp_path: Path) -> None:
    """A symbolic link (a checked-out config elsewhere) stays a link to the changed file."""
    real = tmp_path / "repo" / "feeds.toml"
    real.parent.mkdir()
    real.write_text(COMMENTED, "utf-8")
    link = tmp_path / "feeds.toml"
    link.symlink_to(real)

    set_enabled(link, "bbc", False)

    assert link.is_symlink()
    assert parse_feeds(real.read_text("utf-8"))[0].enabled is False


@pytest.mark.parametrize(
    "name", ["'''", '"""', "a # b", "back\\slash", "x'''y\"\"\"z", "[[feeds]]"]
)
def test_names_that_look_like_toml_syntax_do_not_confuse_removal(name: str) -> None:
    """Quotes, hashes and headers inside a name are string content, not structure."""
    text = add_feeds_text(COMMENTED, [feed(name, "https://odd.example/")]).text
    text = rename_feed_text(text, "BBC", name + " 2").text
    edited = remove_feed_text(text, name + " 2")
    assert comments(edited.text) == {c for c in comments(COMMENTED) if not c.endswith(":bbc")}
    assert [f.name for f in edited.feeds] == ["Dawn", "DW", name]


def test_multi_line_strings_are_content_not_comments_or_headers() -> None:
    """A '#' or '[[feeds]]' line inside a multi-line string belongs to its value."""
    text = (
        '# top #c:top:1\n[[feeds]]\nname = """Multi \\\n# not a comment \\\n[[feeds]]"""\n'
        'url = "https://m.example/"\n\n# loose #c:float:9\n\n[[feeds]]\nname = "B"\n'
        "url = '''https://b.example/'''\n"
    )
    assert classify(text) == [
        Kind.COMMENT,
        Kind.HEADER,
        Kind.CONTENT,
        Kind.CONTENT,
        Kind.CONTENT,
        Kind.CONTENT,
        Kind.BLANK,
        Kind.COMMENT,
        Kind.BLANK,
        Kind.HEADER,
        Kind.CONTENT,
        Kind.CONTENT,
    ]
    edited = remove_feed_text(text, "Multi # not a comment [[feeds]]")
    assert comments(edited.text) == {"#c:top:1", "#c:float:9"}
    assert [f.name for f in edited.feeds] == ["B"]
