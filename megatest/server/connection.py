"""One kept-alive HTTP/1.1 connection from a client to the area's server.

Why not `http.client`: importing it costs 25-30 ms (it brings the email package to parse
headers), more than a whole direct write to the run db, and the test helpers are a process
per call. This client speaks to megatest's own server only (`megatest.server.service`, on
the standard library's `http.server`), whose every answer is a status line, headers and a
body of `Content-Length` bytes; anything else is taken as a broken connection, after which
the caller finds another server or writes to the store directly.
"""

from __future__ import annotations

import socket

MAX_LINE = 8192  # bytes in a status or header line
MAX_HEADERS = 64
MAX_BODY = 64 * 1024 * 1024


class ConnectionFailed(OSError):
    """The server could not be reached, closed the connection, or answered outside HTTP/1.1
    as megatest's server speaks it."""


class Connection:
    """Requests and their answers, one at a time, over one socket kept open between them."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._reader = None

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes = b"") -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body)."""
        self.send(method, path, headers, body)
        return self.answer()

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        """Send one request without waiting for its answer (`answer()` reads it)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            self._socket().sendall(data)
        except OSError as exc:
            self.close()
            raise ConnectionFailed(f"{self.host}:{self.port}: {exc}") from None

    def answer(self) -> tuple[int, bytes]:
        """Read the answer to the request sent last: (status, body)."""
        try:
            return self._read_answer()
        except ConnectionFailed:
            self.close()
            raise
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.close()
            raise ConnectionFailed(f"{self.host}:{self.port}: {exc}") from None

    def close(self) -> None:
        if self._sock is not None:
            self._reader.close()
            self._sock.close()
            self._sock = self._reader = None

    # -- the socket and the answer ----------------------------------------------------------
    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            # a request is one write; without this, Nagle holds the next one for an ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._reader = sock, sock.makefile("rb")
        return self._sock

    def _read_answer(self) -> tuple[int, bytes]:
        if self._reader is None:
            raise ConnectionFailed(f"{self.host}:{self.port}: no request was sent")
        status_line = self._line()
        version, _, rest = status_line.partition(" ")
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
        body = self._reader.read(length)
        if len(body) != length:
            raise ConnectionFailed(f"{self.host}:{self.port}: the answer was cut short")
        if close:
            self.close()
        return status, body

    def _line(self) -> str:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionFailed(f"{self.host}:{self.port}: the server closed the connection")
        if len(line) > MAX_LINE or not line.endswith(b"\n"):
            raise ConnectionFailed(f"{self.host}:{self.port}: a line too long")
        return line.rstrip(b"\r\n").decode("latin-1")
