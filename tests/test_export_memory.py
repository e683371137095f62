"""A year of appointments exported as CSV does not sit in the server's memory.

A real `waitlist serve` process streams 200,000 rows; its peak resident memory (VmHWM)
is read before and after. Holding the rows at once, even only as the finished CSV
text, would raise the peak by at least the size of the body; streaming keeps the rise
to a small part of it. The bound is in bytes of the body, not in seconds, so a slow
machine passes or fails alike.
"""

from __future__ import annotations

import asyncio
import http.client
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from core import db
from core.services import service_accounts, users
from tests.conftest import ON_POSTGRES
from tests.server_process import serving
from tests.stats_support import seed_closed
from tests.tcp_proxy import Forwarder

SPA = "+12025550179"
ROWS = 200_000
# Long enough that each row is ~170 bytes of CSV: the body is then ~34 MB.
NAME = "Maximiliana Josefina Fernandez de la Vega y Ortiz-Ramirez"
# The peak may grow by at most this share of the body while it streams.
MAX_GROWTH_SHARE = 0.25


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def _export(base: str, start: str, end: str) -> tuple[int, int]:
    """Bytes and lines of the export, read in chunks and not kept."""
    url = f"{base}/service-accounts/{SPA}/appointments.csv?from={start}&to={end}"
    size = lines = 0
    with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 - loopback
        assert response.status == 200
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines


def _drain(response: http.client.HTTPResponse) -> None:
    while response.read(1 << 16):
        pass


async def _seed(database_url: str, *, rows: int = ROWS) -> None:
    ctx = await db.start(database_url)
    try:
        spa = await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
        ann = await users.create_user(name=NAME, phone="+14155550101")
        await seed_closed(
            user_id=ann.id, account_id=spa.id, count=rows, start=date(2026, 1, 1), days=365
        )
    finally:
        await ctx.close_connections()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_exporting_200000_rows_keeps_the_servers_peak_memory_well_below_the_body(
    database_url, tmp_path
):
    asyncio.run(_seed(database_url))

    with serving(database_url, tmp_path) as server:
        # A few days first, so the peak already holds what any export needs (a page,
        # the code paths, the connection's caches).
        _, warm_lines = _export(server.base, "2026-01-01", "2026-01-10")
        assert warm_lines > 1000
        before = _peak_kib(server.proc.pid)
        size, lines = _export(server.base, "2026-01-01", "2026-12-31")
        after = _peak_kib(server.proc.pid)

    assert lines == ROWS + 1
    assert size > ROWS * 150
    growth = (after - before) * 1024
    assert growth < size * MAX_GROWTH_SHARE, (
        f"peak grew {growth / 1e6:.1f} MB exporting {size / 1e6:.1f} MB"
    )


@pytest.mark.skipif(not ON_POSTGRES, reason="a network database that goes away")
def test_an_export_cut_off_by_the_database_ends_as_an_incomplete_download(database_url, tmp_path):
    """The answer has started, so the failure cannot become an error status: the client
    must see the transfer broken, not a well-formed CSV that silently stops early."""
    asyncio.run(_seed(database_url, rows=20_000))
    forwarder, through = Forwarder.in_front_of(database_url)
    forwarder.start()
    try:
        with serving(through, tmp_path) as server:
            url = f"{server.base}/service-accounts/{SPA}/appointments.csv?from=2026-01-01&to=2026-12-31"
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
                assert response.status == 200
                first = response.read(1 << 10)
                assert first.startswith(b"id,")
                forwarder.stop()
                with pytest.raises(http.client.IncompleteRead):
                    _drain(response)
            logged = server.log.read_text()
        # Cut off once, in one line: a retry of the handler would write a second answer
        # into the body already streaming.
        assert "CSV export for ***0179 cut off" in logged
        assert "retrying once" not in logged
        assert "Traceback" not in logged
    finally:
        forwarder.stop()
