"""Processes as /proc shows them: each living process's parent, session and CPU seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcStat:
    pid: int
    parent: int
    session: int
    own_cpu_s: float
    """User and system time of the process itself."""
    cpu_s: float
    """The same with its reaped children's."""


def read_stat(pid: int) -> ProcStat:
    """One process's /proc/PID/stat (OSError when it has gone)."""
    # the command name in parentheses may hold spaces: the fields follow its last ')'
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(v) for v in fields[11:13]) / _TICKS
    reaped = sum(int(v) for v in fields[13:15]) / _TICKS
    return ProcStat(pid, int(fields[1]), int(fields[3]), own, own + reaped)


def living() -> Iterator[ProcStat]:
    """Every process alive now (those that end while being read are left out)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield read_stat(int(entry.name))
            except OSError:
                continue
