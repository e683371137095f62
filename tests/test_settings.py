"""The settings object: every key documented, placeholders refused, failures early."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_listed_in_env_example():
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_env_example_as_is_gives_a_working_default_configuration():
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.database_url == "sqlite://waitlist.db"
    assert settings.admin_api_token is None
    assert settings.twilio_auth_token is None
    assert settings.public_base_url is None
    assert settings.host_is_loopback


@pytest.mark.parametrize("token", ["changeme", "your-token-here", "<token>", "secret"])
def test_a_placeholder_secret_is_refused(token):
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(_env_file=None, admin_api_token=token)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+asyncpg://u@h/db", "sqlite://x.db"],
)
def test_the_database_url_forms_people_bring_are_accepted(url):
    assert Settings(_env_file=None, database_url=url).database_url == url  # type: ignore[call-arg]


def test_an_unknown_database_is_refused():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, database_url="mysql://u@h/db")  # type: ignore[call-arg]


def test_the_listen_url_is_a_database_url_or_unset():
    direct = "postgres://waitlist@db.internal:5432/waitlist"
    assert Settings(_env_file=None, database_listen_url=direct).database_listen_url == direct  # type: ignore[call-arg]
    assert Settings(_env_file=None, database_listen_url=" ").database_listen_url is None  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="database_listen_url"):
        Settings(_env_file=None, database_listen_url="mysql://u@h/db")  # type: ignore[call-arg]


def test_a_channel_missing_its_companion_setting_fails_at_start():
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings(_env_file=None, telegram_bot_token="123:abc")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        Settings(_env_file=None, twilio_auth_token="a1b2c3")  # type: ignore[call-arg]


def test_tortoise_gets_a_postgres_url_with_timeouts():
    from core.db import connection_config

    config = connection_config("postgresql+asyncpg://u@127.0.0.1:5432/db")
    assert config["engine"] == "tortoise.backends.asyncpg"
    assert config["credentials"]["command_timeout"] == 30.0


def test_each_postgres_pool_holds_sixteen_connections_unless_the_url_sizes_it():
    from core.db import connections_config

    pools = connections_config("postgres://u@127.0.0.1:5432/db")
    assert {name: c["credentials"]["maxsize"] for name, c in pools.items()} == {
        "default": 16,
        "deliveries": 16,
    }
    sized = connections_config("postgres://u@127.0.0.1:5432/db?minsize=2&maxsize=3")
    assert sized["default"]["credentials"]["maxsize"] == 3
    assert sized["default"]["credentials"]["minsize"] in ("2", 2)


def test_a_postgres_url_may_name_a_unix_socket_directory_as_libpq_writes_it():
    from core.db import connection_config

    config = connection_config("postgres://u@%2Fvar%2Frun%2Fpostgresql/db")
    assert config["credentials"]["host"] == "/var/run/postgresql"
    assert config["credentials"]["database"] == "db"


async def test_a_transaction_left_open_is_rolled_back_when_its_connection_returns(orm):
    from tortoise import connections

    from tests.conftest import ON_POSTGRES

    if not ON_POSTGRES:
        pytest.skip("a PostgreSQL pool's reset")
    client = connections.get("default")
    await client.execute_query("SELECT 1")
    pool = client._pool
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
    # The pool's reset is ours now (no session reset round trip); it must still undo this.
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()


def test_the_inbound_limit_is_still_read_under_its_old_name_sms_inbound_per_minute(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("SMS_INBOUND_PER_MINUTE", "7")
    assert Settings(_env_file=None).inbound_per_minute == 7  # type: ignore[call-arg]
    monkeypatch.delenv("SMS_INBOUND_PER_MINUTE")
    env_file = tmp_path / ".env"
    env_file.write_text("SMS_INBOUND_PER_MINUTE=8\n")
    assert Settings(_env_file=env_file).inbound_per_minute == 8  # type: ignore[call-arg]


def test_when_both_names_of_the_inbound_limit_are_set_inbound_per_minute_wins(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("SMS_INBOUND_PER_MINUTE", "7")
    monkeypatch.setenv("INBOUND_PER_MINUTE", "9")
    assert Settings(_env_file=None).inbound_per_minute == 9  # type: ignore[call-arg]
    monkeypatch.delenv("SMS_INBOUND_PER_MINUTE")
    monkeypatch.delenv("INBOUND_PER_MINUTE")
    env_file = tmp_path / ".env"
    env_file.write_text("INBOUND_PER_MINUTE=9\nSMS_INBOUND_PER_MINUTE=7\n")
    assert Settings(_env_file=env_file).inbound_per_minute == 9  # type: ignore[call-arg]


def test_the_inbound_limit_under_its_old_name_is_checked_like_the_new_one(monkeypatch):
    monkeypatch.setenv("SMS_INBOUND_PER_MINUTE", "0")
    with pytest.raises(ValidationError, match="inbound_per_minute"):
        Settings(_env_file=None)  # type: ignore[call-arg]
