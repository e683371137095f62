"""A real `waitlist serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def start_workers(env: dict[str, str], folder: Path, log: Path, *, workers: int = 2) -> Any:
    """`waitlist serve --workers N --no-migrate` in `folder`, its output in `log`, in a
    session of its own: os.killpg reaches the supervisor and every worker, as Ctrl-C
    from a terminal does."""
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--workers", str(workers), "--no-migrate"],
            env=env,
            cwd=folder,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


@dataclass(frozen=True)
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serving(
    database_url: str, folder: Path, *, env: Mapping[str, str] | None = None, name: str = "server"
) -> Iterator[Served]:
    """The server on `database_url` without the admin token, run in `folder` (no .env),
    with `env` on top of this process's environment; its output in `folder/name.log`."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("ADMIN_API_TOKEN", None)
    log_path = folder / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-migrate"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
        yield Served(f"http://127.0.0.1:{port}", proc, log_path)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
