"""A TCP proxy on loopback that can lose the server's answers.

It forwards each connection to the upstream server. While `drop_answers` is set, the
first bytes the server sends back on a connection are thrown away and both sides are
cut: the client never gets an answer to a request the server did handle (for a create,
after its commit, since the server answers only after that). `dropped` counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class AnswerDroppingProxy:
    upstream_host: str
    upstream_port: int
    drop_answers: bool = True
    dropped: int = 0
    url: str = ""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> AnswerDroppingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_r, server_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            upward = asyncio.create_task(self._pipe(client_r, server_w))
            await self._answers(server_r, client_w)
            upward.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upward
        finally:
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            writer.write_eof()

    async def _answers(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                if self.drop_answers:
                    self.dropped += 1
                    # Cut the client off without a word: a reset, not a clean close.
                    writer.transport.abort()
                    return
                writer.write(chunk)
                await writer.drain()
