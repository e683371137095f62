"""The `waitlist` command: serve, migrate, chat."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import multiprocessing
import os
import re
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.connection import wait

from aiohttp import web
from pydantic import ValidationError

from core import db
from core.settings import Settings
from webhooks import logs

log = logging.getLogger("waitlist")


def _load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SystemExit(f"waitlist: invalid settings: {problems}") from None


async def _settle_garbage_collector(app: web.Application) -> None:
    """Move everything start-up made out of the collector's sight.

    Modules, the app, pools and clients live as long as the process; left tracked,
    every full collection walks them again while requests wait.
    """
    gc.collect()
    gc.freeze()


class StopOnce:
    """A signal handler that starts a graceful stop the first time and ignores repeats.

    Ctrl-C reaches every worker of `serve --workers N` from the terminal, and the
    supervisor passes it on as SIGTERM. aiohttp's own handlers raise on each signal,
    and the second one cancelled the stop half-way: the SMS reply writer and the
    outbox dispatcher were cancelled in their cleanup (replies not stored) and a
    CleanupError trace was logged. The stop is bounded by its cleanups' own timeouts.
    """

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, sig: signal.Signals) -> None:
        if self.stopping:
            log.info("%s while stopping: ignored, the stop goes on", sig.name)
            return
        self.stopping = True
        raise web.GracefulExit()


async def _stop_once_on_signal(app: web.Application) -> None:
    loop = asyncio.get_running_loop()
    stop = StopOnce()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)


def _log_listening(banner: str) -> None:
    """run_app's `print`: it names each site once bound, so `--port 0` shows the port
    the kernel chose."""
    log.info("listening on %s", ", ".join(re.findall(r"\w+://\S+(?<!,)", banner)) or banner)


# Binding errors that are the operator's to fix: say which address, in one line.
_BIND_ERRNOS = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL}


def _serve_one(settings: Settings, reuse_port: bool) -> None:
    from webhooks.app import create_app

    logs.configure(settings.log_level)
    app = create_app(settings)
    # First, before the channels and the dispatcher start: a signal during start-up
    # then stops what has started, and the stop of a started worker is never cut short.
    app.on_startup.insert(0, _stop_once_on_signal)
    app.on_startup.append(_settle_garbage_collector)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            reuse_port=reuse_port or None,
            print=_log_listening,
            # Signals are ours (see StopOnce); before start-up begins, Ctrl-C is
            # Python's KeyboardInterrupt, which run_app also takes as a stop.
            handle_signals=False,
            **logs.access_log_options(settings.access_log),
        )
    except db.StartupError as exc:
        raise SystemExit(f"waitlist: {exc}") from None
    except OSError as exc:
        if exc.errno not in _BIND_ERRNOS:
            raise
        raise SystemExit(
            f"waitlist: cannot listen on {settings.host}:{settings.port}: "
            f"{os.strerror(exc.errno or 0)}"
        ) from None


def _warn_if_pools_outgrow_the_server(database_url: str, workers: int) -> None:
    """Pools grow under load, so too many connections would only fail on a busy morning;
    say so at start-up instead."""
    try:
        budget = asyncio.run(db.connection_budget(database_url, processes=workers))
    except Exception as exc:  # a check only: start-up goes on and meets the real error
        log.warning("could not compare the connection pools with the database: %s", exc)
        return
    if budget is not None and budget[0] > budget[1]:
        wanted, allowed = budget
        log.warning(
            "%d worker(s) may open up to %d connections to PostgreSQL, which accepts %d: "
            "lower ?maxsize= in DATABASE_URL (per pool; two pools per worker) or raise "
            "the server's max_connections",
            workers,
            wanted,
            allowed,
        )


def serve(settings: Settings, *, migrate: bool, workers: int) -> None:
    logs.configure(settings.log_level)
    if settings.admin_api_token is None:
        if not settings.host_is_loopback:
            raise SystemExit(
                "waitlist: ADMIN_API_TOKEN is not set; refusing to listen on "
                f"{settings.host}. Set a token or use a loopback HOST."
            )
        log.warning("ADMIN_API_TOKEN is not set: the admin API is open to anyone on this machine")
    if migrate:
        asyncio.run(db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout))
        log.info("migrations applied")
    _warn_if_pools_outgrow_the_server(settings.database_url, workers)
    if workers == 1:
        _serve_one(settings, reuse_port=False)
        return
    log.info("starting %d workers on %s port %d", workers, settings.host, settings.port)
    # Several processes share the port (SO_REUSEPORT); the kernel spreads connections.
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_serve_one, args=(settings, True)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.is_alive():
                proc.terminate()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # A worker that fails (it could not start) takes the others down: half a server
    # that looks up is worse than none. Its own message is already on stderr.
    running = list(procs)
    while running:
        for sentinel in wait([p.sentinel for p in running]):
            proc = next(p for p in running if p.sentinel == sentinel)
            proc.join()
            running.remove(proc)
            if proc.exitcode and not stopping:
                _stop(signal.SIGTERM, None)
    failed = [p.exitcode for p in procs if p.exitcode and p.exitcode > 0]
    if failed:
        raise SystemExit(failed[0])


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
        logs.configure(settings.log_level)
        asyncio.run(db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout))
        print("migrations applied")
    elif args.command == "chat":
        _chat(_load_settings(), args.phone)
    elif args.command == "telegram":
        _telegram(_load_settings(), args.telegram_command)


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

    logs.configure(settings.log_level)
    if command == "set-webhook":
        print(f"Telegram will deliver updates to {asyncio.run(commands.set_webhook(settings))}")
    else:
        asyncio.run(commands.run_poll(settings))


if __name__ == "__main__":
    main(sys.argv[1:])
