"""One kept-alive HTTP/1.1 connection from a client to the area's server.

Why not `http.client`: importing it costs 25-30 ms (it brings the email package to parse
headers), more than a whole direct write to the run db, and the test helpers are a process
per call. Why `_socket`, the C module under `socket`: importing `socket` costs another
5-6 ms (it turns every socket constant into enums and brings `selectors`), and a host name
given as text brings the IDNA codec; this needs one TCP connection and nothing else.

This client speaks to megatest's own server only (`megatest.server.service`, on the
standard library's `http.server`), whose every answer is a status line, headers and a body
of `Content-Length` bytes; anything else is taken as a broken connection, after which the
caller finds another server or writes to the store directly.
"""

from __future__ import annotations

import _socket

MAX_LINE = 8192  # bytes in a status or header line
MAX_HEADERS = 64
MAX_BODY = 64 * 1024 * 1024
_CHUNK = 65536


class ConnectionFailed(OSError):
    """The server could not be reached, closed the connection, or answered outside HTTP/1.1
    as megatest's server speaks it."""


class Connection:
    """Requests and their answers, one at a time, over one socket kept open between them."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: _socket.socket | None = None
        self._buffer = bytearray()  # received, not yet read

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes = b"") -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body). ConnectionFailed when the
        server cannot be had or answers outside what megatest's server says."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            self._socket().sendall(data)
            return self._answer()
        except ConnectionFailed:
            self.close()
            raise
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.close()
            raise ConnectionFailed(f"{self.host}:{self.port}: {exc}") from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer.clear()

    # -- the socket and the answer ----------------------------------------------------------
    def _socket(self) -> _socket.socket:
        if self._sock is None:
            self._sock = self._connect()
        return self._sock

    def _connect(self) -> _socket.socket:
        """A TCP connection to the first address of the host that takes one."""
        # bytes, so that no IDNA codec is loaded for a plain name or address
        addresses = _socket.getaddrinfo(self.host.encode(), self.port, 0, _socket.SOCK_STREAM)
        error: OSError = ConnectionFailed(f"{self.host}:{self.port}: no address")
        for family, kind, proto, _name, address in addresses:
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                # a request is one write; without this, Nagle holds the next one for an ACK
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error

    def _answer(self) -> tuple[int, bytes]:
        version, _, rest = self._line().partition(" ")
        if not version.startswith("HTTP/1."):
            raise ConnectionFailed(f"{self.host}:{self.port}: not an HTTP answer")
        status = int(rest.partition(" ")[0])
        length, close = None, version == "HTTP/1.0"
        for _ in range(MAX_HEADERS + 1):
            line = self._line()
            if not line:
                break
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.lower() == "close"
            elif name == "transfer-encoding":
                raise ConnectionFailed(f"{self.host}:{self.port}: a chunked answer")
        else:
            raise ConnectionFailed(f"{self.host}:{self.port}: too many headers")
        if length is None or not 0 <= length <= MAX_BODY:
            raise ConnectionFailed(f"{self.host}:{self.port}: an answer without a length")
        while len(self._buffer) < length:
            self._receive("the answer was cut short")
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        if close:
            self.close()
        return status, body

    def _line(self) -> str:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                break
            if len(self._buffer) > MAX_LINE:
                raise ConnectionFailed(f"{self.host}:{self.port}: a line too long")
            self._receive("the server closed the connection")
        if end > MAX_LINE:
            raise ConnectionFailed(f"{self.host}:{self.port}: a line too long")
        line = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[:end + 1]
        return line.decode("latin-1")

    def _receive(self, what_if_none: str) -> None:
        chunk = self._sock.recv(_CHUNK)
        if not chunk:
            raise ConnectionFailed(f"{self.host}:{self.port}: {what_if_none}")
        self._buffer += chunk
