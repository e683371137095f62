"""`waitlist serve --workers 2`: a scrape in either worker sees both workers' counts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.server_process import free_port, start_workers

REQUESTS = 40


def _get(url: str) -> tuple[int, str]:
    # A connection per request (urllib keeps none), so the kernel spreads them over
    # both workers' sockets (SO_REUSEPORT).
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return response.status, response.read().decode()


def _healthz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "waitlist_http_request_duration_seconds_count"
        and sample.labels.get("route") == "/healthz"
        and sample.labels.get("status") == "200"
    )


def _start(database_url: str, folder: Path, port: int, **env: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "TMPDIR": str(folder),
        **env,
    }
    environment.pop("ADMIN_API_TOKEN", None)
    if "PROMETHEUS_MULTIPROC_DIR" not in env:
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return start_workers(environment, folder, folder / "serve.log")


def _wait_for_both(folder: Path, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while (folder / "serve.log").read_text().count("listening on") < 2:
        assert server.poll() is None, (folder / "serve.log").read_text()
        assert time.monotonic() < deadline, (folder / "serve.log").read_text()
        time.sleep(0.1)


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_a_scrape_of_two_workers_counts_every_request_whichever_worker_answers(
    database_url, tmp_path
):
    port = free_port()
    server = _start(database_url, tmp_path, port)
    try:
        _wait_for_both(tmp_path, server)
        [shared] = tmp_path.glob("waitlist-metrics-*")
        for _ in range(REQUESTS):
            assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        # Each scrape lands on either worker; each must see all the requests.
        counts = [_healthz_count(_get(f"http://127.0.0.1:{port}/metrics")[1]) for _ in range(6)]
        files = sorted(p.name for p in shared.glob("*.db"))
    finally:
        _stop(server)

    assert counts == [REQUESTS] * 6
    # Both workers wrote their own files (named by process id).
    assert len({name.rsplit("_", 1)[-1] for name in files if name.startswith("histogram_")}) == 2
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()
    # The private directory went with the server.
    assert list(tmp_path.glob("waitlist-metrics-*")) == []


def test_an_operators_metrics_directory_is_emptied_of_the_last_runs_files(database_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left by a run long gone")
    port = free_port()
    server = _start(database_url, tmp_path, port, PROMETHEUS_MULTIPROC_DIR=str(directory))
    try:
        _wait_for_both(tmp_path, server)
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        assert _healthz_count(_get(f"http://127.0.0.1:{port}/metrics")[1]) == 1
    finally:
        _stop(server)

    assert not (directory / "counter_999999.db").exists()
    assert directory.is_dir()
