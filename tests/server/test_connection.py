"""The clients' HTTP connection: answers from the real server over one kept-alive socket,
and anything that is not megatest's server is a ConnectionFailed, never a hang or a crash."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from megatest.server.connection import Connection, ConnectionFailed


def test_requests_share_one_socket_and_read_whole_answers(run_area, serve_area):
    served = serve_area()
    conn = Connection(served.packet.host, served.packet.port, timeout=10)
    auth = {"Authorization": f"Bearer {served.secret}"}
    try:
        status, body = conn.request("GET", "/ping", auth)
        first = conn._sock
        assert status == 200 and json.loads(body)["type"] == "runner"
        status, body = conn.request("GET", "/runs", auth)
        assert status == 200 and json.loads(body)[0]["runname"] == "nightly"
        assert conn._sock is first
        assert conn.request("GET", "/ping", {})[0] == 401
    finally:
        conn.close()


class _Listener:
    """A loopback listener that answers each connection with `reply`, then closes it."""

    def __init__(self, reply: bytes) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with client:
                client.recv(65536)
                client.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("reply", [
    b"SSH-2.0-OpenSSH_9.2\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\n\r\n{}",
    b"",
], ids=["not-http", "chunked", "cut-short", "no-length", "closed"])
def test_an_answer_megatest_does_not_give_is_a_failed_connection(reply):
    listener = _Listener(reply)
    conn = Connection("127.0.0.1", listener.port, timeout=10)
    try:
        with pytest.raises(ConnectionFailed, match=f"127.0.0.1:{listener.port}"):
            conn.request("POST", "/runs/1/writes", {}, b"{}")
    finally:
        conn.close()
        listener.close()


def test_nothing_listening_is_a_failed_connection():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectionFailed):
        Connection("127.0.0.1", port, timeout=10).request("GET", "/ping", {})
