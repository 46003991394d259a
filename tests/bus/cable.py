"""A network cable between MQTT clients and the broker that a test can pull.

A TCP relay on 127.0.0.1: ``pull()`` stops carrying bytes without closing anything,
as a cable pulled out of a switch does — neither end notices until its keepalive
runs out, and what is sent meanwhile is lost; ``wait_lost(n)`` returns once ``n``
bytes have gone that way. ``cut()`` then closes every connection, as the keepalive
finally would, and closes new ones at once until ``mend()``, after which the
clients reconnect through it.
"""

from __future__ import annotations

import socket
import threading


class Cable:
    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._carrying = True
        self._down = False
        self._lost = 0
        self._cond = threading.Condition()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._accepter = threading.Thread(target=self._accept, name="cable-accept", daemon=True)
        self._accepter.start()

    # -- what a test does --------------------------------------------------------------
    def pull(self) -> None:
        with self._cond:
            self._carrying = False

    def wait_lost(self, n_bytes: int = 1, timeout: float = 5.0) -> bool:
        """Until at least ``n_bytes`` were sent into the pulled cable."""
        with self._cond:
            return self._cond.wait_for(lambda: self._lost >= n_bytes, timeout)

    def cut(self) -> None:
        """Close every connection through the cable, and each new one at once."""
        with self._cond:
            self._carrying, self._down = False, True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)

    def mend(self) -> None:
        """Carry new connections again."""
        with self._cond:
            self._carrying, self._down = True, False

    def close(self) -> None:
        with self._cond:
            self._closed = True
        _close(self._listener)  # shut down first: a bare close() does not wake accept()
        self.cut()
        self._accepter.join(5)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Cable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the relay ----------------------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._cond:
                down, closed = self._down, self._closed
            if down or closed:
                _close(client)
                if closed:
                    return
                continue
            broker = socket.create_connection(("127.0.0.1", self.broker_port))
            with self._cond:
                self._sockets += [client, broker]
                pumps = [threading.Thread(target=self._pump, args=pair, name="cable-pump", daemon=True)
                         for pair in ((client, broker), (broker, client))]
                self._threads += pumps
            for pump in pumps:
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(source)
                _close(sink)
                return
            with self._cond:
                carrying = self._carrying and source in self._sockets
                if not carrying:
                    self._lost += len(data)
                    self._cond.notify_all()
            if carrying:
                try:
                    sink.sendall(data)
                except OSError:
                    pass


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
