"""A private PostgreSQL cluster that a test may stop and restart at will.

The shared server the suite runs on must never be restarted; a test that needs a
database to go away starts its own cluster on a free loopback port, in a temporary
directory, and removes it at the end. PostgreSQL's binaries refuse to run as root, so
they run as the `postgres` user when the test runs as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found under "
            "/usr/lib/postgresql/*/bin: install the postgresql package to run this test"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# What a test's cluster runs with: small, and no durability it would never use.
TEST_SETTINGS = {"fsync": "off", "max_connections": "100", "shared_buffers": "16MB"}


class PrivateCluster:
    """initdb on start(), pg_ctl for restart() and stop(); trust auth, user postgres.

    `settings` (postgresql.conf names and values) replace TEST_SETTINGS: the bench's
    growth scenario runs one with production-like settings.
    """

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = TEST_SETTINGS if settings is None else settings
        self.bin = _bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="waitlist-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "--no-instructions",
        )
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} "
        ) + " ".join(f"-c {name}={value}" for name, value in self.settings.items())
        self._options = options
        self._pg_ctl("-l", str(self.logfile), "-o", options, "start")

    def restart(self) -> None:
        """A fast restart: every session is terminated, as in `pg_ctl restart -m fast`."""
        self._pg_ctl("-l", str(self.logfile), "-o", self._options, "-m", "fast", "restart")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg_ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
