"""Where the machine's CPU went during a run: the server, its PostgreSQL sessions, wrk, the rest.

On two shared cores a throughput figure alone does not say whether the server is
slow or starved. CPU time per request of each party says it: a server that burns
2 ms of CPU per request cannot pass 500 requests a second per core, and when the
machine is busy with other work, no server can.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int, first: int, count: int) -> list[int] | None:
    """Fields `first`.. of /proc/PID/stat as numbers (proc(5) numbering), None if gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        # Fields after the command name (field 2, which may hold spaces) start at 3.
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        values = [int(v) for v in rest[first - 3 : first - 3 + count]]
        return values if len(values) == count else None
    return None


def process_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process (utime, stime; 0 if it is gone)."""
    fields = _stat(pid, 14, 2)
    return sum(fields) / TICKS if fields else 0.0


def reaped_children_seconds(pid: int) -> float:
    """CPU seconds of the children `pid` has waited for (cutime plus cstime)."""
    fields = _stat(pid, 16, 2)
    return sum(fields) / TICKS if fields else 0.0


def parent_of(pid: int) -> int | None:
    fields = _stat(pid, 4, 1)
    return fields[0] if fields else None


def postgres_sessions(database: str) -> list[int]:
    """PostgreSQL backends serving `database`: their process title names it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / TICKS, total / TICKS


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """CPU seconds spent during one run, by party, and the machine's capacity."""

    server: float
    postgres: float
    wrk: float
    machine_busy: float
    machine_total: float

    @classmethod
    def total(cls, splits: list[CpuSplit]) -> CpuSplit:
        """The CPU of consecutive runs taken together."""
        return cls(
            server=sum(s.server for s in splits),
            postgres=sum(s.postgres for s in splits),
            wrk=sum(s.wrk for s in splits),
            machine_busy=sum(s.machine_busy for s in splits),
            machine_total=sum(s.machine_total for s in splits),
        )

    @property
    def others(self) -> float:
        """Busy time that was none of ours: other engineers' work, the kernel, the bench."""
        return max(self.machine_busy - self.server - self.postgres - self.wrk, 0.0)

    def per_request_ms(self, requests: int) -> str:
        if not requests:
            return ""
        per = 1000 / requests
        busy = 100 * self.machine_busy / self.machine_total if self.machine_total else 0.0
        # SQLite runs inside the server process: no separate database figure then.
        database = f", PostgreSQL {self.postgres * per:.2f} ms" if self.postgres else ""
        return (
            f"CPU per request: server {self.server * per:.2f} ms{database}, "
            f"wrk {self.wrk * per:.2f} ms; machine {busy:.0f}% busy, "
            f"{100 * self.others / self.machine_total:.0f}% on other work"
        )


class CpuMeter:
    """Snapshot before a run, `stop()` after it."""

    def __init__(self, server_pids: list[int], database: str | None) -> None:
        self._server_pids = server_pids
        self._database = database
        self._server = {pid: process_seconds(pid) for pid in server_pids}
        self._postgres = self._postgres_now()
        # asyncpg replaces a connection after 50,000 queries: a session can end mid-run,
        # and its CPU then shows only in the postmaster's reaped children.
        self._postmaster = next(
            (ppid for pid in self._postgres if (ppid := parent_of(pid)) is not None), None
        )
        self._reaped = reaped_children_seconds(self._postmaster) if self._postmaster else 0.0
        self._children = children_seconds()
        self._machine = machine_seconds()

    def _postgres_now(self) -> dict[int, float]:
        if self._database is None:
            return {}
        return {pid: process_seconds(pid) for pid in postgres_sessions(self._database)}

    def stop(self) -> CpuSplit:
        server = sum(process_seconds(pid) - self._server[pid] for pid in self._server_pids)
        postgres_now = self._postgres_now()
        # Sessions opened during the run started from zero.
        postgres = sum(now - self._postgres.get(pid, 0.0) for pid, now in postgres_now.items())
        if self._postmaster:
            # Sessions that ended during the run: all their CPU, less what they had
            # used before it. (Other ended children of the server count too: on the
            # bench's own PostgreSQL those are its autovacuum workers, PostgreSQL work.)
            # The postmaster reaps a session a moment after it ends: one ending in the
            # run's last milliseconds would be missed, and pool sessions end mid-run.
            ended = sum(cpu for pid, cpu in self._postgres.items() if pid not in postgres_now)
            postgres += reaped_children_seconds(self._postmaster) - self._reaped - ended
        busy, total = machine_seconds()
        return CpuSplit(
            server=server,
            postgres=postgres,
            wrk=children_seconds() - self._children,
            machine_busy=busy - self._machine[0],
            machine_total=total - self._machine[1],
        )
