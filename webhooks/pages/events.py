"""The screens' server-sent event streams: the response they open and their heartbeat.

Each screen's stream sends its state at once (a reconnecting page catches up), again
after each change to its line, and a heartbeat comment when the line is quiet.
"""

from __future__ import annotations

from aiohttp import web

# Seconds between two heartbeat comments on a quiet stream (proxies drop a connection
# that says nothing for long).
HEARTBEAT_SECONDS = 15.0
HEARTBEAT = b": heartbeat\n\n"


async def open_stream(request: web.Request) -> web.StreamResponse:
    """A `text/event-stream` response, started (its headers sent)."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            # nginx would otherwise buffer the stream.
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    return response
