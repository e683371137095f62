"""The `waitlist` command as a user runs it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.api_helpers import ANN
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL
from tests.server_process import start_workers
from tests.tcp_proxy import Forwarder, free_port


def _waitlist(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_a_public_address_without_an_admin_token(tmp_path):
    result = _waitlist(
        "serve",
        "--host",
        "0.0.0.0",  # noqa: S104 - the case under test
        "--no-migrate",
        env={"ADMIN_API_TOKEN": "", "DATABASE_URL": f"sqlite://{tmp_path}/x.db"},
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "ADMIN_API_TOKEN" in result.stderr


def test_a_bad_setting_stops_the_command_with_a_readable_message(tmp_path):
    result = _waitlist("migrate", env={"PORT": "not-a-port"}, cwd=tmp_path)
    assert result.returncode != 0
    assert "PORT" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(ON_POSTGRES, reason="creates its own SQLite file")
def test_migrate_works_from_any_directory_and_twice(tmp_path):
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/fresh.db"}
    first = _waitlist("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _waitlist("migrate", env=env, cwd="/")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "fresh.db").exists()


def test_the_first_stop_signal_stops_and_a_repeat_is_ignored(caplog):
    import logging
    import signal

    from aiohttp import web

    from cli.serve import StopOnce

    caplog.set_level(logging.INFO)
    stop = StopOnce()
    with pytest.raises(web.GracefulExit):
        stop(signal.SIGINT)
    stop(signal.SIGTERM)
    stop(signal.SIGINT)
    assert stop.stopping
    assert "SIGTERM while stopping: ignored" in caplog.text


def test_ctrl_c_stops_every_worker_cleanly_with_the_sms_channel_on(tmp_path, database_url):
    """Ctrl-C reaches each worker from the terminal and again from the supervisor; the
    second signal must not cut the first one's stop short (replies unsaved, a trace)."""
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADMIN_API_TOKEN": "a-token-for-this-test-only",
        "PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
        "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef",
        "TWILIO_FROM_NUMBER": "+15005550006",
        # Nothing listens there: outbound SMS cannot leave the machine.
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
    }
    log = tmp_path / "serve.log"
    server = start_workers(env, tmp_path, log)
    try:
        # Both workers are starting once each has said so (the SMS channel's line); they
        # listen only when their start-up is over, so the first request may be refused.
        deadline = time.monotonic() + 30
        while log.read_text().count("SMS channel on") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as ok:
                    assert ok.status == 200
                break
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    output = log.read_text()
    assert output.count("SMS channel on") == 2, output
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
    assert "CleanupError" not in output, output


def _with_pool_size(url: str, maxsize: int) -> str:
    return url + ("&" if "?" in url else "?") + f"maxsize={maxsize}"


def test_serve_warns_when_its_pools_could_outgrow_postgres_and_not_when_they_fit(
    database_url, caplog
):
    import asyncio
    import logging

    from cli.serve import _warn_if_pools_outgrow_the_server
    from core import db

    caplog.set_level(logging.WARNING, logger="waitlist")
    if not ON_POSTGRES:
        assert asyncio.run(db.connection_budget(database_url, processes=4)) is None
        _warn_if_pools_outgrow_the_server(database_url, 4)
        assert caplog.text == ""
        return
    wanted, allowed = asyncio.run(
        db.connection_budget(_with_pool_size(database_url, 3), processes=2)
    )
    assert wanted == 2 * 2 * 3
    assert 0 < allowed < 100_000
    _warn_if_pools_outgrow_the_server(_with_pool_size(database_url, 3), 2)
    assert caplog.text == ""
    _warn_if_pools_outgrow_the_server(_with_pool_size(database_url, allowed), 3)
    assert f"3 worker(s) may open up to {3 * 2 * allowed} connections" in caplog.text
    assert f"which accepts {allowed}" in caplog.text


def test_serve_says_so_when_it_cannot_check_the_pools_and_starts_anyway(caplog):
    import logging

    from cli.serve import _warn_if_pools_outgrow_the_server

    caplog.set_level(logging.WARNING, logger="waitlist")
    _warn_if_pools_outgrow_the_server("postgres://nobody:sekret@127.0.0.1:1/nowhere", 2)
    assert "could not compare the connection pools with the database" in caplog.text
    assert "sekret" not in caplog.text


# Start-up failures, as an operator meets them: the installed `waitlist` command.

WAITLIST = str(Path(sys.executable).parent / "waitlist")
# Generous: each command gives up on its own well before (10 s for a bad setting).
BOUND_SECONDS = 60


def _command(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WAITLIST, *args],
        env={**os.environ, "ADMIN_API_TOKEN": "", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
        check=False,
    )


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("waitlist: ")]
    assert len(said) == 1, result.stderr
    assert said[0] == result.stderr.strip().splitlines()[-1], result.stderr
    for word in words:
        assert word in said[0], said[0]
    return said[0]


_COMMANDS = [("migrate",), ("serve", "--no-migrate", "--port", "0"), ("chat", "--phone", ANN)]


def _server_url(database: str) -> str:
    parts = urlsplit(TEST_DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def _with_user(user: str) -> str:
    parts = urlsplit(TEST_DATABASE_URL)
    netloc = f"{user}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda c: c[0])
def test_an_sqlite_path_that_cannot_exist_fails_at_once_in_one_line(command, tmp_path):
    started = time.monotonic()
    result = _command(
        *command, env={"DATABASE_URL": "sqlite:///nonexistent/dir/x.db"}, cwd=tmp_path
    )
    _assert_one_line_failure(result, "/nonexistent/dir/x.db", "unable to open")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda c: c[0])
def test_a_database_url_that_cannot_work_fails_at_once_in_one_line(command, tmp_path):
    result = _command(
        *command, env={"DATABASE_URL": "postgres://u@127.0.0.1:notaport/db"}, cwd=tmp_path
    )
    _assert_one_line_failure(result, "DATABASE_URL", "Port")


@pytest.mark.skipif(not ON_POSTGRES, reason="needs a PostgreSQL server to refuse the login")
@pytest.mark.parametrize("command", _COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("url", "words"),
    [
        (lambda: _with_user("no_such_role_here"), ('role "no_such_role_here" does not exist',)),
        (lambda: _server_url("no_such_database_here"), ("no_such_database_here", "not exist")),
    ],
    ids=["missing-role", "missing-database"],
)
def test_a_missing_postgres_role_or_database_fails_at_once_in_one_line(
    command, url, words, tmp_path
):
    started = time.monotonic()
    result = _command(
        *command, env={"DATABASE_URL": url(), "DB_CONNECT_TIMEOUT": "30"}, cwd=tmp_path
    )
    _assert_one_line_failure(result, *words)
    # Not retried: waiting cannot create a role or a database.
    assert "not reachable yet" not in result.stderr
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda c: c[0])
def test_a_database_port_that_refuses_is_retried_then_fails_in_one_line(command, tmp_path):
    url = f"postgres://postgres@127.0.0.1:{free_port()}/waitlist"
    result = _command(*command, env={"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "2"}, cwd=tmp_path)
    _assert_one_line_failure(result, "not reachable", "DB_CONNECT_TIMEOUT")
    retries = [line for line in result.stderr.splitlines() if "not reachable yet" in line]
    assert len(retries) >= 2, result.stderr
    assert "attempt 1:" in retries[0]


def test_serve_on_a_port_already_in_use_fails_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _command(
            "serve",
            "--port",
            str(port),
            env={"DATABASE_URL": f"sqlite://{tmp_path}/x.db"},
            cwd=tmp_path,
        )
    _assert_one_line_failure(result, f"cannot listen on 127.0.0.1:{port}", "in use")


def test_serve_with_workers_stops_them_all_when_the_port_is_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _command(
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            env={"DATABASE_URL": f"sqlite://{tmp_path}/x.db"},
            cwd=tmp_path,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()


def _wait_for(predicate, what: str, proc: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(
                f"server exited ({proc.returncode}) before {what}:\n{log.read_text()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} in {BOUND_SECONDS} s:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.mark.skipif(not ON_POSTGRES, reason="a network database that comes up late")
def test_a_server_started_before_its_database_comes_up_waits_for_it(database_url, tmp_path):
    forwarder, late_url = Forwarder.in_front_of(database_url)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "ADMIN_API_TOKEN": "",
        "DATABASE_URL": late_url,
        "DB_CONNECT_TIMEOUT": str(BOUND_SECONDS),
        "PORT": str(port),
    }
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [WAITLIST, "serve", "--no-migrate"],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_for(lambda: "attempt 2:" in log.read_text(), "second retry line", proc, log)
        forwarder.start()
        _wait_for(lambda: "listening on" in log.read_text(), "listening line", proc, log)
        status, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        forwarder.stop()
    output = log.read_text()
    assert "database not reachable yet (attempt 1: ConnectionRefusedError" in output
    assert "Traceback" not in output, output


def test_version_prints_the_package_version(tmp_path):
    from importlib.metadata import version

    result = _command("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"waitlist {version('waitlist')}"


def test_serve_help_shows_the_host_and_port_defaults(tmp_path):
    result = _command("serve", "--help", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    assert "(default: HOST, else 127.0.0.1)" in help_text
    assert "(default: PORT, else 8000)" in help_text


def test_serve_on_port_0_logs_the_port_it_really_bound(tmp_path):
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [WAITLIST, "serve", "--port", "0"],
            env={**os.environ, "ADMIN_API_TOKEN": "", "DATABASE_URL": f"sqlite://{tmp_path}/x.db"},
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_for(lambda: "listening on" in log.read_text(), "listening line", proc, log)
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text())
        assert found, log.read_text()
        bound = int(found.group(1))
        assert bound != 0
        assert _get(f"http://127.0.0.1:{bound}/healthz")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
