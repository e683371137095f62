"""One typed settings object, read from the environment (or `.env`), that fails fast."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.rules.delivery import DEFAULT_SEND_TIMEOUT, SendBudget
from core.rules.phones import InvalidPhone, normalize_phone
from core.rules.regions import FALLBACK_REGION, InvalidRegion, known_region
from core.rules.retention import Retention

# Values people paste from examples; a server must not start with one of them as a secret.
_PLACEHOLDERS = {"changeme", "change-me", "change_me", "secret", "token", "xxx", "todo", "example"}
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
AccessLogMode = Literal["problems", "all", "off"]
LogFormat = Literal["text", "json"]


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in _PLACEHOLDERS or lowered.startswith(("your-", "your_", "<"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = "sqlite://waitlist.db"
    # The PostgreSQL address for the one LISTEN connection a process keeps (the screens'
    # live updates), when DATABASE_URL goes through a pooler in transaction mode, which
    # cannot carry LISTEN: a direct or session-mode address. Unset: DATABASE_URL.
    database_listen_url: str | None = None
    # Seconds start-up waits for a database that refuses connections (not up yet)
    # before giving up; errors that waiting cannot fix fail at once.
    db_connect_timeout: Annotated[float, Field(ge=0)] = 30.0
    # Seconds any one statement of the server's pools may run (PostgreSQL's
    # statement_timeout; SQLite's busy timeout, how long a statement waits for the
    # file's lock), so one stuck query cannot hold the pool; 0 for no limit. Migrations
    # run without it.
    db_statement_timeout: Annotated[float, Field(ge=0, le=3600)] = 5.0
    admin_api_token: SecretStr | None = None
    # Bearer token for /metrics; without it /metrics answers only a server that listens
    # on loopback alone (webhooks.metrics).
    metrics_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    log_level: LogLevel = "INFO"
    # A line per failed or slow request ("problems"), per request ("all"), or none.
    access_log: AccessLogMode = "problems"
    # One line of text per record, or one JSON object (cli.logs).
    log_format: LogFormat = "text"

    # The region (ISO 3166 alpha-2) of a new provider whose time zone names no single
    # country: numbers it types without a country code are read there.
    default_phone_region: str = FALLBACK_REGION

    public_base_url: str | None = None
    # Deliver the outbox from this process. Turn off in processes that should only
    # answer requests when another process (or a dedicated one) dispatches.
    outbox_dispatcher: bool = True
    # Seconds one outbox send through a channel may take in all: half of it at most
    # waiting for a pacing slot (SMS_MAX_PER_SECOND), the rest for the request. A message
    # is claimed for this plus 5 s (core.rules.delivery.SendBudget), so a message a
    # process was sending when it died goes out again that long after the crash.
    outbox_send_timeout: Annotated[float, Field(gt=0, le=600)] = DEFAULT_SEND_TIMEOUT

    # Seconds between two looks for grace timers that fell due (reminders, expiries);
    # every process looks, and each timer fires once.
    grace_poll_interval: Annotated[float, Field(gt=0, le=60)] = 1.0
    # Seconds between two reads of the versions of the lines the screens watch: how
    # soon a change made by another process shows where no NOTIFY told (SQLite, or a
    # lost LISTEN connection).
    line_poll_interval: Annotated[float, Field(gt=0, le=60)] = 1.0

    # Retention (core.services.pruning applies it; README "What we keep"). Inbound
    # records (SMS and Telegram: phone and the reply) must outlive a redelivery:
    # Telegram redelivers an update for up to a day, so less than 1 day is refused.
    retain_inbound_days: Annotated[int, Field(ge=1, le=3650)] = 7
    # Sent, failed and skipped outbox rows (pending ones are never pruned).
    retain_outbox_days: Annotated[int, Field(ge=1, le=3650)] = 30
    # Seconds between two prunes (one process prunes: a PostgreSQL advisory lock elects
    # it, and the last run's time in the database spaces the runs); 0: only `waitlist prune`.
    prune_interval: Annotated[float, Field(ge=0, le=7 * 86400)] = 3600.0
    # After each batch of deletions, a prune pauses this many times as long as the batch
    # took: at 2 it works at most a third of the time, and the requests keep their
    # speed meanwhile; 0: no pause (a maintenance window).
    prune_pause_ratio: Annotated[float, Field(ge=0, le=100)] = 2.0

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    # Sends per second from one sending number, for all processes and hosts together on
    # PostgreSQL (core.services.pacing), for the one process on SQLite.
    sms_max_per_second: Annotated[float, Field(gt=0)] = 1.0
    # The WhatsApp sender on the same Twilio account (+14155238886 is Twilio's sandbox),
    # with or without "whatsapp:". Without it WhatsApp notices go through the Messaging
    # Service, when one is set.
    twilio_whatsapp_from: str | None = None
    # A notice that cannot go by WhatsApp (outside its 24 h window) or fails for good on
    # a customer's channel (a blocked Telegram bot) goes once by SMS.
    fallback_to_sms: bool = True
    # What one outbound SMS segment costs, for STATS' estimate (unset: no estimate).
    sms_price_per_segment: Annotated[Decimal | None, Field(ge=0)] = None
    # Messages one phone may send in a minute on each channel before the one "slow
    # down" reply. SMS_INBOUND_PER_MINUTE, its name when only SMS had the limit, is
    # still read; INBOUND_PER_MINUTE wins over it set in the same place (the
    # environment, or .env), and the environment overrides .env as for every setting.
    inbound_per_minute: Annotated[
        int,
        Field(ge=1, validation_alias=AliasChoices("inbound_per_minute", "sms_inbound_per_minute")),
    ] = 20

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"

    @field_validator(
        "admin_api_token",
        "metrics_token",
        "twilio_auth_token",
        "telegram_bot_token",
        "telegram_webhook_secret",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and _is_placeholder(value):
            raise ValueError("is a placeholder value; set a real secret or leave it empty")
        return value

    @field_validator(
        "database_listen_url",
        "public_base_url",
        "twilio_account_sid",
        "twilio_from_number",
        "twilio_messaging_service_sid",
        "twilio_whatsapp_from",
        "sms_price_per_segment",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("twilio_whatsapp_from")
    @classmethod
    def _whatsapp_sender(cls, value: str | None) -> str | None:
        # Twilio's console shows the sender as "whatsapp:+1..."; kept as the bare number.
        if value is None:
            return None
        bare = value.strip()
        if bare[:9].lower() == "whatsapp:":
            bare = bare[9:]
        try:
            return normalize_phone(bare)
        except InvalidPhone:
            raise ValueError("must be a phone number, like whatsapp:+14155238886") from None

    @field_validator("database_url", "database_listen_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split("://", 1)[0].lower()
        if scheme not in {"sqlite", "postgres", "postgresql", "postgresql+asyncpg", "asyncpg"}:
            raise ValueError("must be a sqlite:// or postgres:// URL")
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        try:
            return known_region(value)
        except InvalidRegion as exc:
            raise ValueError(str(exc)) from None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TELEGRAM_SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _channels_are_complete(self) -> Settings:
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set")
        if self.twilio_auth_token and not self.public_base_url:
            raise ValueError("PUBLIC_BASE_URL is required when TWILIO_AUTH_TOKEN is set")
        return self

    @property
    def host_is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def send_budget(self) -> SendBudget:
        return SendBudget(self.outbox_send_timeout)

    @property
    def retention(self) -> Retention:
        return Retention(inbound_days=self.retain_inbound_days, outbox_days=self.retain_outbox_days)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.lower().startswith("sqlite://")
