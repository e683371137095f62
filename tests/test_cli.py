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
