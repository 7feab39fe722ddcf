"""Article benchmark: pages per second of newsbot's article reading against trafilatura alone.

On the Zyte benchmark's news pages (``../shared/corpus/extraction/zyte``), two ways in the
same run, each measured twice:

- ours: ``extract_html`` then ``summarize`` (body, title, date, author, lead, key quotes with
  speakers);
- baseline: ``trafilatura.extract(html, url=...)`` alone (the body as plain text).

In-process: each side reads every page ``--repeat`` times, the sides taking turns; the best
round of each counts (the least disturbed by other work on the machine).
Whole process: ``newsbot summarize --format jsonl PAGES...`` against a Python process that
imports trafilatura and runs ``trafilatura.extract`` on the same pages, each started afresh,
taking turns ``--repeat`` times; the best run of each counts. CPU time (user + system of the
child) is the steady figure on a busy machine; wall time is printed too.

Prints pages/s of each side and the ratio ours/baseline (1.0 = as fast as trafilatura alone).

Run: ``python -m bench.extract`` (all 88 pages) or ``python -m bench.extract --pages 10``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import trafilatura

from bot.article.extract import extract_html
from bot.article.summary import summarize
from bot.errors import InputError

ZYTE = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "extraction" / "zyte"
_BASELINE_SCRIPT = (
    "import sys, trafilatura\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, 'rb') as f:\n"
    "        trafilatura.extract(f.read())\n"
)


def _pages(limit: int) -> list[tuple[Path, bytes, str | None]]:
    rows = [json.loads(line) for line in (ZYTE / "truth.jsonl").open(encoding="utf-8")]
    out = []
    for row in rows[:limit]:
        path = ZYTE / row["page"]
        out.append((path, path.read_bytes(), row.get("url")))
    return out


def _ours(pages: list[tuple[Path, bytes, str | None]]) -> None:
    for _, html, url in pages:
        with suppress(InputError):
            summarize(extract_html(html, url=url), lead_sentences=2)


def _baseline(pages: list[tuple[Path, bytes, str | None]]) -> None:
    for _, html, url in pages:
        trafilatura.extract(html, url=url)


def _best_in_process(
    sides: dict[str, Callable[[list[tuple[Path, bytes, str | None]]], None]],
    pages: list[tuple[Path, bytes, str | None]],
    repeat: int,
) -> dict[str, float]:
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(repeat):
        for name, run in sides.items():
            start = time.process_time()
            run(pages)
            best[name] = min(best[name], time.process_time() - start)
    return best


def _run_child(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process, run to the end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _best_whole_process(paths: list[str], repeat: int) -> dict[str, tuple[float, float]]:
    commands = {
        "ours": [sys.executable, "-m", "bot.cli", "summarize", "--format", "jsonl", *paths],
        "baseline": [sys.executable, "-c", _BASELINE_SCRIPT, *paths],
    }
    best = dict.fromkeys(commands, (float("inf"), float("inf")))
    for _ in range(repeat):
        for name, command in commands.items():
            wall, cpu = _run_child(command)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extract", description=__doc__)
    parser.add_argument("--pages", type=int, default=88, help="how many Zyte pages (all: 88)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each side")
    args = parser.parse_args(argv)
    pages = _pages(args.pages)
    n = len(pages)
    _ours(pages[:2])  # warm imports and caches before timing
    _baseline(pages[:2])
    inproc = _best_in_process({"ours": _ours, "baseline": _baseline}, pages, args.repeat)
    print(f"{n} Zyte pages, best of {args.repeat} rounds")
    print("in-process CPU time:")
    for name, label in (("ours", "extract_html + summarize"), ("baseline", "trafilatura.extract")):
        print(f"  {label:<26} {inproc[name]:7.2f} s  {n / inproc[name]:6.1f} pages/s")
    print(f"  ratio ours/baseline (pages/s): {inproc['baseline'] / inproc['ours']:.2f}x")
    whole = _best_whole_process([str(p) for p, _, _ in pages], args.repeat)
    print("whole process (start, import, read every page):")
    for name, label in (("ours", "newsbot summarize"), ("baseline", "python + trafilatura")):
        wall, cpu = whole[name]
        print(f"  {label:<26} wall {wall:6.2f} s  CPU {cpu:6.2f} s  {n / cpu:6.1f} pages/CPU-s")
    ratio_cpu = whole["baseline"][1] / whole["ours"][1]
    ratio_wall = whole["baseline"][0] / whole["ours"][0]
    print(f"  ratio ours/baseline (pages/s): CPU {ratio_cpu:.2f}x, wall {ratio_wall:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
