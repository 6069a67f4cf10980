"""A TCP proxy in front of the moto server that can make S3 go away at an exact moment.

``FaultProxy(port).cut_when(regex)``: once a request matching ``regex`` (e.g.
the PUT of one artifact's manifest) starts on any connection, the proxy drops
every connection without forwarding it and refuses new ones - what a client
sees when the S3 endpoint disappears mid-run.

``FaultProxy(port).lose_answer_when(regex)``: the first request matching
``regex`` reaches the server, but its answer is dropped with its connection
(once; later requests pass) - a request that succeeded while its client saw
the connection fail.
"""

from __future__ import annotations

import re
import socket
import threading


class FaultProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint_url = f"http://{host}:{self.port}"
        self.pattern: re.Pattern[bytes] | None = None
        self.lose: re.Pattern[bytes] | None = None
        #: set once an answer was dropped (lose_answer_when)
        self.lost = threading.Event()
        self.cut = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_when(self, pattern: bytes) -> None:
        self.pattern = re.compile(pattern)

    def lose_answer_when(self, pattern: bytes) -> None:
        self.lose = re.compile(pattern)

    def stop(self) -> None:
        """Drop every connection and refuse new ones."""
        self.cut.set()
        with self._lock:
            for sock in [self.listener, *self._sockets]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            doomed = threading.Event()  # this connection's next answer is to be dropped
            threading.Thread(target=self._pump, args=(client, upstream, True, doomed), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False, doomed), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, inspect: bool, doomed: threading.Event) -> None:
        window = b""
        try:
            while not self.cut.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if inspect:
                    window = (window + data)[-8192:]
                    if self.pattern is not None and self.pattern.search(window):
                        self.stop()
                        return
                    if self.lose is not None and not self.lost.is_set() and self.lose.search(window):
                        self.lost.set()
                        doomed.set()
                elif doomed.is_set() and not data.startswith(b"HTTP/1.1 100 "):  # "100 Continue" is not the answer
                    return  # the server answered the doomed request: drop the answer with the connection
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
