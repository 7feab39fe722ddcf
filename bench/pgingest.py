"""Ingest throughput on PostgreSQL: one ingest process against two, in the same run.

    python -m bench.pgingest                       # 200 feeds (1 000 articles a run), 2 rounds
    python -m bench.pgingest --feeds 10 --rounds 1 # smoke size

A throwaway PostgreSQL server (tests.support.postgres) and a loopback server in its own
process serve N feeds x 20 entries, each entry a real news page of ``corpus/extraction/zyte``
(bench.ingest's server); a new feed gives its latest 5 entries, so a run stores 5 N
articles. Each run starts from an empty copy of the migrated database and launches real
``newsbot fetch --once`` processes (they claim feeds as ``newsbot run --role ingest`` does)
and times them from launch to exit, start-up included; the time from the first article read
to the last (their ``fetched`` stamps) is reported beside it, without the start-up.

Each process is pinned to a core of its own (``sched_setaffinity``, inherited by its page
workers, which default to the cores a process may use), standing for one machine of one
core: one process has one core, two have two. Unpinned, one process would already use both
cores of a 2-core machine and the comparison would say nothing about adding processes. Each
also runs in a session of its own: Linux's autogroup scheduling shares a busy machine between
sessions, not processes, so processes of one session would split one share between them
(on a machine others use, two processes in one session ran no faster than one). The
database and loopback servers run unpinned; their CPU is reported, and so is newsbot's own
(each process of the fetchers' sessions, sampled every 0.5 s) per article: equal in both
configurations means adding a process adds no work, whatever the machine's other load did.

Configurations alternate (1, 2, 2, 1, ...) so a busy machine weighs on both alike; the load
average is reported before and after each run. Every run checks that every article is
stored once (as many rows as distinct links, 5 N of them) and read once (the processes'
counts of new articles add up to 5 N). Reported: articles per second of each run, the
throughput of two processes over one (target at least 1.7), and each process's share.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.ingest import BACKLOG, CORPUS, ROOT, serve
from bench.procstat import living, read_stat
from bot.store.pg import Database
from tests.support.postgres import PostgresCluster

SETTINGS = """\
[poll]
new_feed_backlog = {backlog}
[http]
max_concurrent = 16
max_per_host = 16
[bot]
allow_private_feeds = true
[store]
database_url = "{url}"
"""
_SUMMARY = re.compile(r"(\d+) feeds polled in [\d.]+ s: (\d+) new")


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def cpu_s(pid: int) -> float:
    """CPU seconds so far of one process and its reaped children (from /proc)."""
    return read_stat(pid).cpu_s


def session_cpu_s(sessions: set[int]) -> dict[int, float]:
    """CPU seconds so far of each living process of these sessions (a fetcher, its fork
    server and page workers), by process id; sampled until they end."""
    return {p.pid: p.own_cpu_s for p in living() if p.session in sessions}


def database_cpu_s(cluster: PostgresCluster) -> float:
    """CPU seconds so far of every PostgreSQL server process of the cluster."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return sum(p.cpu_s for p in living() if postmaster in (p.pid, p.parent))


def run_once(
    processes: int,
    cores: list[int],
    url: str,
    root: Path,
    feeds: int,
    server_pid: int,
    cluster: PostgresCluster,
) -> dict[str, Any]:
    """Launch ``processes`` fetchers on one database; wait for all; check what they stored."""
    environ = {**os.environ, "NEWSBOT_CONFIG": str(root / "config"), "PYTHONPATH": str(ROOT)}
    (root / "config" / "settings.toml").write_text(
        SETTINGS.format(backlog=BACKLOG, url=url), encoding="utf-8"
    )
    load_before = load_average()
    server_cpu, db_cpu = cpu_s(server_pid), database_cpu_s(cluster)
    started = time.perf_counter()
    launched = []
    for k in range(processes):
        core = {cores[k % len(cores)]}
        launched.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "fetch", "--once"],
                env={**environ, "NEWSBOT_DATA": str(root / f"data{k}")},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=lambda core=core: os.sched_setaffinity(0, core),  # type: ignore[misc]
                start_new_session=True,  # its own scheduling group, as on a machine of its own
            )
        )
    sessions = {p.pid for p in launched}
    cpu: dict[int, float] = {}
    while any(p.poll() is None for p in launched):
        cpu |= session_cpu_s(sessions)
        time.sleep(0.5)
    outputs = [p.communicate() for p in launched]
    seconds = time.perf_counter() - started
    for process, (_, err) in zip(launched, outputs, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"newsbot fetch failed ({process.returncode}): {err[-2000:]}")
    shares = []
    for out, _ in outputs:
        found = _SUMMARY.search(out)
        shares.append({"feeds": int(found[1]), "new": int(found[2])} if found else out[-300:])
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT doc->>'link'), "
            "extract(epoch FROM max((doc->>'fetched')::timestamptz) "
            "- min((doc->>'fetched')::timestamptz)) FROM articles"
        )
        stored, distinct, reading_s = row.fetchone()  # type: ignore[misc]
    expected = feeds * BACKLOG
    read = sum(s["new"] for s in shares if isinstance(s, dict))
    if not stored == distinct == read == expected:
        raise RuntimeError(
            f"stored {stored} articles, {distinct} distinct, {read} read, of {expected}"
        )
    return {
        "processes": processes,
        "seconds": round(seconds, 2),
        "articles": stored,
        "articles_per_s": round(stored / seconds, 2),
        "reading_s": round(float(reading_s), 2),
        "newsbot_cpu_s": round(sum(cpu.values()), 1),
        "cpu_ms_per_article": round(sum(cpu.values()) * 1000 / stored, 1),
        "reading_articles_per_s": round((stored - 1) / float(reading_s), 2),
        "per_process": shares,
        "page_server_cpu_s": round(cpu_s(server_pid) - server_cpu, 2),
        "database_cpu_s": round(database_cpu_s(cluster) - db_cpu, 2),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration")
    args = parser.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("two processes on their own cores need two cores")
    pages_dir = CORPUS / "extraction" / "zyte" / "pages"
    context = multiprocessing.get_context("spawn")
    port_out = context.Queue()
    stop = context.Event()
    server = context.Process(target=serve, args=(args.feeds, str(pages_dir), port_out, stop))
    server.start()
    cluster = PostgresCluster.start()
    runs: list[dict[str, Any]] = []
    try:
        base_url = port_out.get(timeout=600)
        template_url = cluster.create_database()
        Database.open(template_url).close()  # migrated once; each run copies it
        template = cluster.make_template(template_url)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "config").mkdir()
            blocks = [
                f'[[feeds]]\nname = "feed{f:04d}"\nurl = "{base_url}/feeds/feed{f:04d}.xml"\n'
                for f in range(args.feeds)
            ]
            (root / "config" / "feeds.toml").write_text("\n".join(blocks), encoding="utf-8")
            order = [1, 2, 2, 1] * args.rounds
            for processes in order[: 2 * args.rounds]:
                url = cluster.create_database(template)
                run = run_once(processes, cores, url, root, args.feeds, server.pid or 0, cluster)
                print(json.dumps(run), file=sys.stderr)
                runs.append(run)
                cluster.drop_database(url)
            leftovers = [p.name for p in root.glob("data*/*")]
    finally:
        cluster.stop()
        stop.set()
        server.join(timeout=30)
    throughput, reading = (
        {
            n: sum(r["articles"] for r in runs if r["processes"] == n)
            / sum(r[key] for r in runs if r["processes"] == n)
            for n in (1, 2)
        }
        for key in ("seconds", "reading_s")
    )
    report = {
        "feeds": args.feeds,
        "articles_per_run": args.feeds * BACKLOG,
        "runs": runs,
        "one_process_articles_per_s": round(throughput[1], 2),
        "two_processes_articles_per_s": round(throughput[2], 2),
        "ratio_two_vs_one": round(throughput[2] / throughput[1], 3),
        "ratio_ok": throughput[2] / throughput[1] >= 1.7,
        "reading_one_process_articles_per_s": round(reading[1], 2),
        "reading_two_processes_articles_per_s": round(reading[2], 2),
        "reading_ratio_two_vs_one": round(reading[2] / reading[1], 3),
        "cpu_ms_per_article": {
            n: round(
                sum(r["newsbot_cpu_s"] for r in runs if r["processes"] == n)
                * 1000
                / sum(r["articles"] for r in runs if r["processes"] == n),
                1,
            )
            for n in (1, 2)
        },
        "data_folders_hold": leftovers,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
