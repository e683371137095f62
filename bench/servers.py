"""Starting and watching the servers under test: ports, readiness, RSS, their logs."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def waitlist_command() -> list[str]:
    """The `waitlist` console script of the interpreter running the bench.

    BENCH_WAITLIST overrides it (a command line, split on spaces), to measure a
    patched server against the same scenarios before proposing a change.
    """
    override = os.environ.get("BENCH_WAITLIST", "").split()
    if override:
        return override
    script = Path(sys.executable).with_name("waitlist")
    if not script.exists():
        raise RuntimeError(
            f"{script} not found: install the project first (pip install -e '.[bench]')"
        )
    return [str(script)]


def before_command() -> list[str] | None:
    """BENCH_BEFORE: a command line that behaves like `waitlist`, of the build a change
    is measured against. Its servers then run beside this build's, on a database of its
    own seeded alike (bench.seed.TwinSeeder), and are measured in the same alternating
    rounds in every scenario."""
    command = os.environ.get("BENCH_BEFORE", "").split()
    return command or None


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server process and its descendants (workers)."""
        found = [self.process.pid]
        frontier = [self.process.pid]
        while frontier:
            parent = frontier.pop()
            children = Path(f"/proc/{parent}/task/{parent}/children")
            with contextlib.suppress(OSError):
                for pid in map(int, children.read_text().split()):
                    found.append(pid)
                    frontier.append(pid)
        return found

    def worker_pids(self) -> list[int]:
        """Processes that serve requests: the children when there are any, else the parent."""
        pids = self.pids()
        return pids[1:] or pids

    def rss_mb(self) -> dict[int, float]:
        return {pid: rss_mb(pid) for pid in self.pids()}

    def log_problems(self) -> list[str]:
        """Lines of the server log that speak of an error."""
        pattern = re.compile(r"Traceback|ERROR|CRITICAL|Exception|Error:")
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if pattern.search(line)]


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_ready(server: Server, path: str = "/healthz", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {server.log}"
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(server.url + path, timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f}s; see {server.log}")


def start(
    name: str,
    command: list[str],
    *,
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: Path,
) -> Server:
    handle = log.open("ab")
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        # Its own process group, so stopping it stops its workers and nothing else.
        start_new_session=True,
    )
    handle.close()
    server = Server(name=name, process=process, port=port, log=log)
    try:
        wait_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: Server, timeout: float = 15.0) -> None:
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGINT)
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@contextlib.contextmanager
def running(*args: object, **kwargs: object) -> Iterator[Server]:
    server = start(*args, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        stop(server)
