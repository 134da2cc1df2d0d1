"""A TCP proxy in front of the test PostgreSQL server that can cut a connection at the worst
moment: after the server committed, before the client hears the answer."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class CommitDropProxy:
    """Forwards bytes both ways; `drop_after_next_commit()` arms it to swallow the answer to
    the next COMMIT and close both sides, so the client cannot know whether it committed."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._armed = threading.Event()
        self.dropped = False
        self.refusing = False
        """While True, new connections are closed at once (the partition goes on)."""
        self._sockets: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def drop_after_next_commit(self) -> None:
        self._armed.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                _close(client)
                continue
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            state = {"commit_sent": False}
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, state), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, state: dict[str, bool]) -> None:
        while data := _recv(client):
            if self._armed.is_set() and b"COMMIT" in data:
                state["commit_sent"] = True
            try:
                server.sendall(data)
            except OSError:
                return
        _close(client, server)

    def _down(self, server: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        while data := _recv(server):
            if state["commit_sent"]:
                # The server answered the COMMIT: it is durable there. The client never hears.
                self._armed.clear()
                self.dropped = True
                self.refusing = True
                _close(client, server)
                return
            try:
                client.sendall(data)
            except OSError:
                return
        _close(client, server)

    def close(self) -> None:
        self._listener.close()
        _close(*self._sockets)

    def __enter__(self) -> CommitDropProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
