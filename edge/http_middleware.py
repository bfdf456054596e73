"""Pure ASGI middleware for the HTTP API: a request-body limit and Prometheus request metrics.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``) because both must see the raw ``receive``/``send``
messages: the body limit counts bytes as they arrive, and the metrics record the status of responses the
application never produced (a 413 sent before the body was read).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def error_body(status: int, message: str) -> bytes:
    """The API's error object, ``{"error": {"status": ..., "message": ...}}``, as UTF-8 JSON bytes."""
    error = {"error": {"status": status, "message": message}}
    return json.dumps(error, ensure_ascii=False, separators=(",", ":")).encode()


async def send_error(
    send: Send, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete JSON error response straight to the ASGI server."""
    body = error_body(status, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a request body grows past the limit."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class BodyLimitMiddleware:
    """Reject request bodies over ``max_body`` bytes without buffering them.

    Two checks, because ``Content-Length`` may be absent (chunked uploads) or wrong: a declared length over
    the limit is answered 413 at once, before the application reads anything; otherwise the bytes are
    counted as they are received and `BodyTooLarge` (an HTTPException, re-raised as such by FastAPI's body
    parsing) interrupts the upload as soon as the count passes the limit. Memory stays bounded by the
    limit plus one chunk whatever the client does.

    Trade-off: answering before the body is read means the server closes the connection with the rest of
    the upload unread; some clients report a broken pipe instead of the 413. Reading and discarding up to
    the declared length would be friendlier to them and an easy way to waste the box's bandwidth.
    """

    def __init__(self, app: ASGIApp, max_body: int, message: str | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.message = message or f"request body is larger than {max_body} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await send_error(send, 413, self.message, [(b"connection", b"close")])
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as e:  # raised outside FastAPI's handlers (e.g. by another middleware)
            if started:
                raise
            await send_error(send, 413, str(e.detail), [(b"connection", b"close")])


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class MetricsMiddleware:
    """Count every HTTP response by method, path and status (``plate_edge_http_requests_total``).

    Paths are labelled through ``label_of`` (known routes as themselves, anything else ``other``) so a
    scanner probing random URLs cannot blow up the metric's cardinality. A request that fails without a
    response counts as status 500.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry, label_of: Callable[[str], str]) -> None:
        self.app = app
        self.label_of = label_of
        self.requests = Counter(
            "plate_edge_http_requests",
            "HTTP requests answered, by method, path and status.",
            ["method", "path", "status"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: dict[str, Any] = {"code": 500}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.requests.labels(scope["method"], self.label_of(scope["path"]), str(status["code"])).inc()
