"""Article benchmark: pages per second of newsbot's article reading against trafilatura alone.

On the Zyte benchmark's news pages (``../shared/corpus/extraction/zyte``), two ways in the
same run, each measured twice:

- ours: ``extract_html`` then ``summarize`` (body, title, date, author, lead, key quotes with
  speakers);
- baseline: ``trafilatura.extract(html, url=...)`` alone (the body as plain text).

In-process: each side reads every page ``--repeat`` times, the sides taking turns; the best
round of each is printed (the least disturbed by other work on the machine).
Whole process: ``newsbot summarize --format jsonl PAGES...`` against a Python process that
imports trafilatura and runs ``trafilatura.extract`` on the same pages, each started afresh,
taking turns ``--repeat`` times; the best run of each is printed. CPU time (user + system of
the child) is the steady figure on a busy machine; wall time is printed too.

Prints pages/s of each side and the ratio ours/baseline (1.0 = as fast as trafilatura alone):
the median over rounds of each round's ratio (the two sides measured back to back, so a
busy spell of the machine weighs on both), and the ratio of the best rounds. The first
in-process pages also fill the language model's cache (``bot.article.langmodel``), as any
first run does.

Run: ``python -m bench.extract`` (all 88 pages) or ``python -m bench.extract --pages 10``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
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


def _in_process(
    sides: dict[str, Callable[[list[tuple[Path, bytes, str | None]]], None]],
    pages: list[tuple[Path, bytes, str | None]],
    repeat: int,
) -> dict[str, list[float]]:
    """CPU seconds of each side, round by round."""
    rounds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, run in sides.items():
            start = time.process_time()
            run(pages)
            rounds[name].append(time.process_time() - start)
    return rounds


def _paired_ratio(ours: list[float], baseline: list[float]) -> float:
    """The median over rounds of baseline/ours time (ours' pages/s over the baseline's)."""
    return statistics.median(b / o for o, b in zip(ours, baseline, strict=True))


def _run_child(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process, run to the end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _whole_process(paths: list[str], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each side's process, round by round."""
    commands = {
        "ours": [sys.executable, "-m", "bot.cli", "summarize", "--format", "jsonl", *paths],
        "baseline": [sys.executable, "-c", _BASELINE_SCRIPT, *paths],
    }
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            rounds[name].append(_run_child(command))
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extract", description=__doc__)
    parser.add_argument("--pages", type=int, default=88, help="how many Zyte pages (all: 88)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each side")
    args = parser.parse_args(argv)
    pages = _pages(args.pages)
    n = len(pages)
    _ours(pages[:2])  # warm imports and caches before timing
    _baseline(pages[:2])
    inproc = _in_process({"ours": _ours, "baseline": _baseline}, pages, args.repeat)
    print(f"{n} Zyte pages, {args.repeat} rounds")
    print("in-process CPU time (best round):")
    for name, label in (("ours", "extract_html + summarize"), ("baseline", "trafilatura.extract")):
        best = min(inproc[name])
        print(f"  {label:<26} {best:7.2f} s  {n / best:6.1f} pages/s")
    paired = _paired_ratio(inproc["ours"], inproc["baseline"])
    best_ratio = min(inproc["baseline"]) / min(inproc["ours"])
    print(
        f"  ratio ours/baseline (pages/s): {paired:.2f}x median of rounds, {best_ratio:.2f}x best"
    )
    whole = _whole_process([str(p) for p, _, _ in pages], args.repeat)
    print("whole process (start, import, read every page; best round):")
    for name, label in (("ours", "newsbot summarize"), ("baseline", "python + trafilatura")):
        wall = min(w for w, _ in whole[name])
        cpu = min(c for _, c in whole[name])
        print(f"  {label:<26} wall {wall:6.2f} s  CPU {cpu:6.2f} s  {n / cpu:6.1f} pages/CPU-s")
    cpu_ours = [c for _, c in whole["ours"]]
    cpu_base = [c for _, c in whole["baseline"]]
    wall_ours = [w for w, _ in whole["ours"]]
    wall_base = [w for w, _ in whole["baseline"]]
    print(
        f"  ratio ours/baseline (pages/s): CPU {_paired_ratio(cpu_ours, cpu_base):.2f}x median"
        f" of rounds, {min(cpu_base) / min(cpu_ours):.2f}x best;"
        f" wall {_paired_ratio(wall_ours, wall_base):.2f}x median"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
