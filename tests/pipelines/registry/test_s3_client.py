"""The one S3 client factory and its retry policy, against real HTTP servers that misbehave on purpose."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from minio.error import S3Error

from pipelines.registry import Backoff, RegistryConfigError, RegistryUnavailableError, S3Connection, s3_endpoint_url

_SLOW_DOWN = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>reduce your request rate</Message></Error>"
_NO_SUCH_KEY = b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>"


class _Scripted(ThreadingHTTPServer):
    """Answers each request with the next ``(status, xml body)`` of ``script`` (the last one repeats)."""

    def __init__(self, script: list[tuple[int, bytes]]):
        self.script = script
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Scripted

    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        status, body = self.server.script[min(len(self.server.requests), len(self.server.script)) - 1]
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    servers = []

    def start(script: list[tuple[int, bytes]]) -> _Scripted:
        server = _Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _connect(endpoint: str, attempts: int) -> S3Connection:
    backoff = Backoff(attempts=attempts, base_delay=0.01, max_delay=0.05)
    return S3Connection(endpoint, access_key="k", secret_key="s", region="us-east-1", backoff=backoff)


def test_endpoints_as_urls_or_host_port():
    assert s3_endpoint_url("minio:9000") == "http://minio:9000"
    assert s3_endpoint_url("minio:9000", secure=True) == "https://minio:9000"
    assert s3_endpoint_url("https://s3.example.org/ignored/path") == "https://s3.example.org"
    assert S3Connection("minio.amadeus:9000", secure=True).endpoint == "https://minio.amadeus:9000"
    for bad in ("ftp://host", "http://", ""):
        with pytest.raises(RegistryConfigError, match="expected http"):
            S3Connection(bad)


def test_5xx_and_transient_s3_codes_are_retried_until_an_answer(scripted):
    server = scripted([(503, b""), (503, _SLOW_DOWN), (200, b"")])
    connection = _connect(server.endpoint, attempts=3)
    assert connection.call("checking bucket amadeus", lambda: connection.client.bucket_exists("amadeus")) is True
    assert server.requests == ["HEAD /amadeus", "HEAD /amadeus", "HEAD /amadeus"]


def test_a_definite_answer_is_not_retried(scripted):
    server = scripted([(404, _NO_SUCH_KEY)])
    connection = _connect(server.endpoint, attempts=5)
    with pytest.raises(S3Error) as info:
        connection.call("reading k", lambda: connection.client.get_object("amadeus", "k").read())
    assert info.value.code == "NoSuchKey" and len(server.requests) == 1


def test_a_failing_server_is_tried_exactly_attempts_times_then_named(scripted):
    server = scripted([(500, _SLOW_DOWN)])
    connection = _connect(server.endpoint, attempts=4)
    with pytest.raises(RegistryUnavailableError) as info:
        connection.call("reading deu/v000001/manifest.pb", lambda: connection.client.get_object("amadeus", "k").read())
    assert len(server.requests) == 4  # the HTTP pool adds no retries of its own
    assert info.value.endpoint == server.endpoint and info.value.attempts == 4
    assert str(info.value).startswith(
        f"S3 reading deu/v000001/manifest.pb: {server.endpoint} is unreachable or failing after 4 attempts"
    )


def test_a_server_that_drops_connections_is_retried_with_backoff_then_named():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        accepted = []

        def drop() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                accepted.append(conn)
                conn.close()

        threading.Thread(target=drop, daemon=True).start()
        connection = S3Connection(
            f"127.0.0.1:{port}", region="us-east-1", backoff=Backoff(attempts=3, base_delay=0.05, factor=2.0)
        )
        started = time.perf_counter()
        with pytest.raises(RegistryUnavailableError, match=f"127.0.0.1:{port} is unreachable or failing after 3"):
            connection.call("listing x", lambda: connection.client.bucket_exists("amadeus"))
        assert time.perf_counter() - started >= 0.05 + 0.1
        assert len(accepted) == 3
