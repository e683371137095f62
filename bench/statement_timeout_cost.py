"""What PostgreSQL's statement_timeout costs a statement: `python -m bench.statement_timeout_cost`.

Two connections, one with DB_STATEMENT_TIMEOUT's default (5 s) and one with none, take
turns running a prepared `SELECT $1::int` on loopback; the round trip of each is
reported (best and median of the rounds). The difference is the server's work to arm
and disarm the statement's timer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg

from bench import databases

ROUNDS = 30
STATEMENTS = 5_000


async def _round(conn: asyncpg.Connection) -> float:
    start = time.perf_counter()
    for n in range(STATEMENTS):
        await conn.fetchval("SELECT $1::int", n)
    return (time.perf_counter() - start) / STATEMENTS * 1e6


async def _measure(url: str) -> dict[str, list[float]]:
    dsn = databases.asyncpg_dsn(url)
    sides = {
        "off": await asyncpg.connect(dsn, server_settings={"statement_timeout": "0"}),
        "on (5 s)": await asyncpg.connect(dsn, server_settings={"statement_timeout": "5000"}),
    }
    try:
        for conn in sides.values():
            await _round(conn)  # warm: the statement prepared, the caches filled
        found: dict[str, list[float]] = {name: [] for name in sides}
        # Alternating rounds: a neighbour's burst lands on both sides alike.
        for _ in range(ROUNDS):
            for name, conn in sides.items():
                found[name].append(await _round(conn))
        return found
    finally:
        for conn in sides.values():
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres-url", default=databases.DEFAULT_POSTGRES)
    args = parser.parse_args()
    found = asyncio.run(_measure(args.postgres_url))
    for name, rounds in found.items():
        print(
            f"statement_timeout {name}: round trip best {min(rounds):.1f} µs, "
            f"median {statistics.median(rounds):.1f} µs ({ROUNDS} rounds of {STATEMENTS:,})"
        )


if __name__ == "__main__":
    main()
