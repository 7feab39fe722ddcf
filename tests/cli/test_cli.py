"""The newsbot command line: files in order, bad files reported, the rest still printed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import COMMAND_MODULES, _build_parser, main


def test_jsonl_keeps_input_order_and_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that cannot be read is reported on stderr; the others still print, exit is 1."""
    first = tmp_path / "a.txt"
    first.write_text("First headline\n\nThe council approved the budget on Monday.\n", "utf-8")
    second = tmp_path / "b.txt"
    second.write_text("Second headline\n\nRain is expected across the region tonight.\n", "utf-8")
    missing = tmp_path / "missing.html"

    code = main(["extract", "--format", "jsonl", str(first), str(missing), str(second)])

    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["source"] for r in records] == [str(first), str(second)]
    assert records[0]["title"] == "First headline"
    assert records[1]["text"] == "Rain is expected across the region tonight."
    assert str(missing) in err


def test_summarize_jsonl_has_lead_and_quotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """summarize adds the lead sentences and the quotes to extract's fields."""
    page = tmp_path / "story.txt"
    page.write_text(
        "Bridge reopens\n\nThe old bridge reopened on Friday after two years of repairs. "
        "Traffic was light.\n\n“We are proud of the crews who rebuilt it in record time,” "
        "Mayor Ana Lopez said.\n",
        "utf-8",
    )
    assert main(["summarize", "--format", "jsonl", "--lead-sentences", "1", str(page)]) == 0
    record = json.loads(capsys.readouterr().out)
    keys = {"source", "title", "published", "author", "text", "language", "lead", "quotes"}
    assert set(record) == keys
    assert record["language"] == "en"
    assert record["lead"] == ["The old bridge reopened on Friday after two years of repairs."]
    assert record["quotes"][0]["text"].startswith("We are proud of the crews")


def test_summarize_jsonl_names_the_language_and_splits_urdu_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Urdu article is labelled "ur" and its lead is its first sentence, not its whole
    first paragraph (the splitter knows ۔)."""
    page = tmp_path / "urdu.txt"
    first = (
        "وائس آف امریکہ اردو کی میڈیم ویو ریڈیو نشریات کا سلسلہ منگل کی صبح اپنے اختتام کو پہنچا۔"
    )
    second = "لیکن وائس آف امریکہ اردو دنیا بھر میں اپنے لاکھوں سننے والوں سے جڑا رہے گا۔"
    page.write_text(f"{first} {second}\n", "utf-8")
    assert main(["summarize", "--format", "jsonl", "--lead-sentences", "1", str(page)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["language"] == "ur"
    assert record["lead"] == [first]


def test_stdin_dash_reads_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-` reads the article from standard input."""
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Plain body text here.\n")))
    assert main(["extract", "--format", "jsonl", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "Plain body text here."


ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("trafilatura", "lxml", "telegram", "httpx", "apscheduler", "feedparser", "tinydb")


@pytest.mark.parametrize("argv", [["--help"], ["search", "--help"]])
def test_help_starts_without_loading_the_extraction_and_network_libraries(argv: list[str]) -> None:
    """``newsbot --help`` and a command's --help load only what that command's parser needs
    (bench/startup.py measures the start against ``python -c pass``)."""
    code = (
        "import sys\nfrom bot.cli.main import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(','.join(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(done.stderr.strip().splitlines()[-1].split(","))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "usage: newsbot" in done.stdout


def test_the_command_table_names_every_command_with_its_own_help_line() -> None:
    """``newsbot --help`` lists the commands from a table without importing them: it says
    what each module itself adds."""
    full = _build_parser(everything=True)
    (commands,) = [a for a in full._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {c.dest: c.help for c in commands._choices_actions}
    table = {name: text for names in COMMAND_MODULES.values() for name, text in names}
    assert {name: helps[name] for name in table} == table
    assert set(helps) == set(table) | {"extract", "summarize"}
