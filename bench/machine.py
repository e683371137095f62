"""Facts about the machine and the code a run measured, for RESULTS.md."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGES = ("aiohttp", "tortoise-orm", "asyncpg", "aiosqlite", "pydantic", "orjson", "twilio")


@dataclass(frozen=True, slots=True)
class Facts:
    commit: str
    dirty: bool
    cpus: int
    cpu_model: str
    memory_gb: float
    kernel: str
    python: str
    postgres: str
    sqlite: str
    wrk: str
    packages: dict[str, str]


def _run(command: list[str], cwd: Path | None = None) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=20)
        return (done.stdout or done.stderr).strip()
    return ""


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def collect(repo: Path, postgres_version: str) -> Facts:
    import sqlite3

    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return Facts(
        commit=_run(["git", "rev-parse", "--short", "HEAD"], cwd=repo) or "unknown",
        dirty=bool(_run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo)),
        cpus=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        memory_gb=_memory_gb(),
        kernel=platform.release(),
        python=platform.python_version(),
        postgres=postgres_version,
        sqlite=sqlite3.sqlite_version,
        wrk=_run(["wrk", "-v"]).splitlines()[0].split(" [")[0] if _run(["wrk", "-v"]) else "",
        packages=versions,
    )
