"""`waitlist serve`: the server in one process, or several sharing the port under a
supervisor that stops them all when one fails."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import multiprocessing
import os
import re
import signal
from multiprocessing.connection import wait

from aiohttp import web

from cli import logs, metrics_dir
from core import db
from core.settings import Settings

log = logging.getLogger("waitlist")


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
    so a repeat would cancel the stop half-way: the SMS reply writer and the outbox
    dispatcher cut off in their cleanup, replies not stored. The stop is bounded by
    its cleanups' own timeouts.
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

    logs.configure(settings.log_level, settings.log_format)
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
    logs.configure(settings.log_level, settings.log_format)
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
    with metrics_dir.shared(workers=workers) as directory:
        if workers == 1:
            _serve_one(settings, reuse_port=False)
        else:
            _supervise(settings, workers=workers, metrics=directory)


def _supervise(settings: Settings, *, workers: int, metrics: str | None) -> None:
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
            metrics_dir.worker_exited(proc.pid, metrics)
            if proc.exitcode and not stopping:
                _stop(signal.SIGTERM, None)
    failed = [p.exitcode for p in procs if p.exitcode and p.exitcode > 0]
    if failed:
        raise SystemExit(failed[0])
