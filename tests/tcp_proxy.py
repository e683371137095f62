"""A TCP forwarder on loopback, for tests where a database appears late or goes away.

Threads, not the event loop: it keeps forwarding while a test's loop is busy or while
the test waits on a subprocess.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Forwarder:
    """Listens on 127.0.0.1:`port` once started and forwards to `target`; until then
    (and after stop) nothing listens there, so connecting is refused."""

    def __init__(self, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._server: socket.socket | None = None
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()

    @classmethod
    def in_front_of(cls, database_url: str) -> tuple[Forwarder, str]:
        """A forwarder (not started) to the database's host, and the URL that reaches
        the same database through it."""
        parts = urlsplit(database_url)
        forwarder = cls((parts.hostname or "127.0.0.1", parts.port or 5432))
        netloc = f"{parts.username}@127.0.0.1:{forwarder.port}"
        return forwarder, urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
            with self._lock:
                self._live.discard(s)

    def cut(self) -> None:
        """Drop every forwarded connection, as a database restart does; keep listening."""
        with self._lock:
            live = list(self._live)
        self._close(*live)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.cut()
