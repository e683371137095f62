"""The `waitlist` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ON_POSTGRES


def _waitlist(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhooks.cli", *args],
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

    from webhooks.cli import StopOnce

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
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "webhooks.cli", "serve", "--workers", "2", "--no-migrate"],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
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

    from core import db
    from webhooks.cli import _warn_if_pools_outgrow_the_server

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

    from webhooks.cli import _warn_if_pools_outgrow_the_server

    caplog.set_level(logging.WARNING, logger="waitlist")
    _warn_if_pools_outgrow_the_server("postgres://nobody:sekret@127.0.0.1:1/nowhere", 2)
    assert "could not compare the connection pools with the database" in caplog.text
    assert "sekret" not in caplog.text
