"""What the request middleware (request id, histogram) and the response's id header cost
per request, against calling the handler alone: `python -m bench.middleware_cost`.

One process's figure: metrics in memory, as `serve` runs them with one worker. With
`--multiprocess`, the values go to files as under `serve --workers N` (the variable is
set before prometheus_client is first imported, as the supervisor does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

ROUNDS = 40
CALLS = 20_000


async def _measure() -> dict[str, float]:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from webhooks import request_ids
    from webhooks.middleware import request_middleware

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/users/{phone}", handler)
    request = make_mocked_request("GET", "/users/+14155550101", app=app)
    match = await app.router.resolve(request)
    match.add_app(app)
    request._match_info = match

    async def bare() -> None:
        await handler(request)

    async def observed() -> None:
        response = await request_middleware(request, handler)
        await request_ids.send_back(request, response)

    async def one_round(call: object) -> float:
        start = time.perf_counter()
        for _ in range(CALLS):
            await call()  # type: ignore[operator]
        return (time.perf_counter() - start) / CALLS * 1e6

    await one_round(observed)  # warm: the children resolved, the files made
    # Rounds alternate, and each side keeps its best: the machine is shared, and a
    # neighbour's burst would otherwise land on one side only.
    off = on = float("inf")
    for _ in range(ROUNDS):
        off = min(off, await one_round(bare))
        on = min(on, await one_round(observed))
    return {"handler alone": off, "with middleware": on, "cost": on - off}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    if args.multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="waitlist-bench-")
    assert "prometheus_client" not in sys.modules
    figures = asyncio.run(_measure())
    mode = "multiprocess (files)" if args.multiprocess else "one process (memory)"
    print(f"metrics {mode}: " + ", ".join(f"{k} {v:.2f} µs" for k, v in figures.items()))


if __name__ == "__main__":
    main()
