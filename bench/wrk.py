"""Driving wrk (Debian's `wrk`) and reading the JSON line our Lua `done()` prints."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.cpu import CpuSplit

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH_JSON "


class WrkError(RuntimeError):
    """wrk could not be run or printed no summary."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # Socket errors and timeouts as wrk counts them, plus answers outside 2xx.
    socket_errors: int
    non2xx: int
    # A thread ran out of fresh keys and repeated one: the run is not valid as is.
    exhausted: bool
    sample: str
    # The 1-minute load average when the run started: other work on the machine shows here.
    load_before: float = 0.0
    cpu: CpuSplit | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non2xx


def merged(slices: list[WrkResult]) -> WrkResult:
    """One run made of consecutive slices against one server: requests, time, errors
    and CPU add up; percentiles are the slices' weighted by their requests (a close
    reading of the whole run's when the slices are alike), the maximum the largest."""
    if len(slices) == 1:
        return slices[0]
    requests = sum(s.requests for s in slices)

    def weighted(value: Callable[[WrkResult], float]) -> float:
        if not requests:
            return max(value(s) for s in slices)
        return sum(value(s) * s.requests for s in slices) / requests

    splits = [s.cpu for s in slices if s.cpu is not None]
    return WrkResult(
        requests=requests,
        duration_s=sum(s.duration_s for s in slices),
        p50_ms=weighted(lambda s: s.p50_ms),
        p90_ms=weighted(lambda s: s.p90_ms),
        p99_ms=weighted(lambda s: s.p99_ms),
        max_ms=max(s.max_ms for s in slices),
        socket_errors=sum(s.socket_errors for s in slices),
        non2xx=sum(s.non2xx for s in slices),
        exhausted=any(s.exhausted for s in slices),
        sample=next((s.sample for s in slices if s.sample), ""),
        load_before=slices[0].load_before,
        cpu=CpuSplit.total(splits) if len(splits) == len(slices) else None,
    )


def ensure_installed() -> str:
    """Return wrk's path, installing the Debian package when it is missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed: run `sudo apt-get install -y wrk`")
    print("installing wrk (apt-get install -y wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("apt-get installed wrk but it is not on PATH")
    return found


def parse(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            break
    else:
        raise WrkError(f"wrk printed no summary:\n{output[-2000:]}")
    socket_errors = sum(
        raw[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return WrkResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        socket_errors=socket_errors,
        non2xx=raw["non2xx"],
        exhausted=bool(raw["exhausted"]),
        sample=raw["sample"],
    )


def run(
    *,
    url: str,
    script: str,
    args: list[str],
    seconds: float,
    connections: int,
    threads: int,
    log: Path | None = None,
) -> WrkResult:
    """One bounded wrk run; `args` follow the script's own `--` argument list."""
    command = [
        ensure_installed(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA_DIR / script),
        url,
        "--",
        str(threads),
        *args,
    ]
    load = load_average()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    output = done.stdout + done.stderr
    if log is not None:
        with log.open("a") as handle:
            handle.write(" ".join(command) + "\n" + output + "\n")
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}:\n{output[-2000:]}")
    return dataclasses.replace(parse(output), load_before=load)


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
