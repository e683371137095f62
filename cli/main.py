"""The `waitlist` command: its arguments, and what each subcommand runs."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from pydantic import ValidationError

from cli import logs
from cli.serve import serve
from core import db
from core.settings import Settings


def _load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SystemExit(f"waitlist: invalid settings: {problems}") from None


def _version() -> str:
    try:
        return version("waitlist")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waitlist", description="Waitlist server and tools")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="apply migrations and run the server")
    defaults = Settings.model_fields
    p_serve.add_argument(
        "--host",
        help=f"address to listen on (default: HOST, else {defaults['host'].default})",
    )
    p_serve.add_argument(
        "--port",
        type=int,
        help=f"port to listen on, 0 for any free one (default: PORT, else {defaults['port'].default})",
    )
    p_serve.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    p_serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    sub.add_parser("migrate", help="apply pending migrations and exit")
    sub.add_parser("prune", help="delete what is past retention now (RETAIN_* settings)")
    p_chat = sub.add_parser("chat", help="talk to the waitlist as a phone, in this terminal")
    p_chat.add_argument("--phone", required=True)
    p_telegram = sub.add_parser("telegram", help="connect the Telegram bot")
    telegram_sub = p_telegram.add_subparsers(dest="telegram_command", required=True)
    telegram_sub.add_parser("set-webhook", help="register PUBLIC_BASE_URL/webhooks/telegram")
    telegram_sub.add_parser("poll", help="fetch updates by long polling (local development)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except db.StartupError as exc:
        raise SystemExit(f"waitlist: {exc}") from None
    except KeyboardInterrupt:
        # Ctrl-C while waiting for the database (or migrating): a stop, not a crash.
        raise SystemExit(130) from None


def _run(args: argparse.Namespace) -> None:
    if args.command == "serve":
        if args.workers < 1:
            raise SystemExit("waitlist: --workers must be at least 1")
        settings = _load_settings(host=args.host, port=args.port)
        if settings.port == 0 and args.workers > 1:
            raise SystemExit("waitlist: port 0 needs --workers 1 (each worker would pick its own)")
        serve(settings, migrate=not args.no_migrate, workers=args.workers)
    elif args.command == "migrate":
        settings = _load_settings()
        logs.configure(settings.log_level, settings.log_format)
        asyncio.run(db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout))
        print("migrations applied")
    elif args.command == "prune":
        settings = _load_settings()
        logs.configure(settings.log_level)
        _prune(settings)
    elif args.command == "chat":
        _chat(_load_settings(), args.phone)
    elif args.command == "telegram":
        _telegram(_load_settings(), args.telegram_command)


def _prune(settings: Settings) -> None:
    from cli.prune import prune

    deleted = asyncio.run(prune(settings))
    if deleted is None:
        print("another process is pruning; nothing done")
        return
    for table, swept in deleted.items():
        print(f"{table}: {swept.rows} rows deleted in {swept.statements} statements")


def _chat(settings: Settings, phone: str) -> None:
    from core.rules.phones import InvalidPhone, normalize_phone

    try:
        normalized = normalize_phone(phone)
    except InvalidPhone as exc:
        raise SystemExit(f"waitlist: --phone: {exc}") from None
    from bot.console import run_chat

    asyncio.run(db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout))
    asyncio.run(run_chat(settings=settings, phone=normalized))


def _telegram(settings: Settings, command: str) -> None:
    from webhooks.telegram import commands

    logs.configure(settings.log_level, settings.log_format)
    if command == "set-webhook":
        print(f"Telegram will deliver updates to {asyncio.run(commands.set_webhook(settings))}")
    else:
        asyncio.run(commands.run_poll(settings))

