"""The directory the workers of `serve --workers N` share their metrics through.

prometheus-client's multiprocess mode: each process writes its values to files in
PROMETHEUS_MULTIPROC_DIR, and a scrape in any worker adds them up (webhooks.metrics).
The variable must be set before a worker first imports prometheus_client, so the
supervisor sets it before starting them (spawned workers inherit its environment).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# prometheus-client's own variable. Nothing here imports prometheus_client: a process
# that did would create its files before the directory is emptied.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared(*, workers: int) -> Iterator[str | None]:
    """The metrics directory while the server runs: the operator's (emptied of the
    last run's files, which would count processes long gone), else, for several
    workers, a private one made now and removed at exit. None for one worker with no
    directory set: it keeps its metrics in memory."""
    given = os.environ.get(MULTIPROCESS_ENV, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield str(path)
        return
    if workers == 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="waitlist-metrics-")  # mode 0700: this user's only
    os.environ[MULTIPROCESS_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def worker_exited(pid: int | None, directory: str | None) -> None:
    """A worker is gone: its gauges stop counting (its counters stay in the sums)."""
    if pid is None or directory is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
