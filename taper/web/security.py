"""What keeps the local page safe by default, as plain ASGI layers around the app.

- :class:`SecurityHeaders`: every response carries a strict Content-Security-Policy (scripts
  and styles only from this server, no inline script or style, no framing), with
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and no caching (a
  plan is patient data).
- :class:`HostCheck`: a request whose ``Host`` header is not an address the page is served on
  is refused (DNS rebinding: another site's name pointed at 127.0.0.1 must not reach it).
- :class:`BodyLimit`: a request body larger than its path's limit is refused with 413,
  before reading it when its length is declared and as soon as it passes the limit when not.
- :class:`CsrfTokens`: each form carries a token derived from a random cookie with a secret
  made when the process starts (double submit, signed): a form posted from another site
  has no cookie it can match.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)

#: The names of this machine's loopback interface, any of which reaches a loopback server.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> frozenset[str]:
    """The ``Host`` names accepted for a server listening on ``host``."""
    if is_loopback(host):
        return LOOPBACK_NAMES | {host.lower().strip("[]")}
    return frozenset({host.lower().strip("[]")})


def _host_name(header: str) -> str:
    """``"[::1]:8000"`` -> ``"::1"``; ``"localhost:8000"`` -> ``"localhost"``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds :data:`HEADERS` to every HTTP response (errors and refusals included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                message["headers"] = [
                    *(item for item in message.get("headers", []) if item[0].lower() not in names),
                    *HEADERS,
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class HostCheck:
    """Refuses (400) a request whose ``Host`` header names no host in ``hosts``."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers", []))
            name = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if name not in self.hosts:
                await _plain(
                    send,
                    400,
                    "taper: error: this page is served for "
                    f"{', '.join(sorted(self.hosts))} only, not for the host {name!r}\n",
                )
                return
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """A request body passed its limit while the app read it."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit

    def message(self) -> str:
        return (
            f"taper: error: the request is larger than {_size(self.limit)}, the most this "
            "page reads\n"
        )


class BodyLimit:
    """Refuses (413) a request body over the limit of its path (``limits``: path prefix to
    bytes; ``default`` elsewhere), without reading more than the limit."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int], default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    def limit(self, path: str) -> int:
        return next(
            (size for prefix, size in self.limits.items() if path.startswith(prefix)),
            self.default,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _plain(send, 413, BodyTooLarge(limit).message())
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            item = await receive()
            if item["type"] == "http.request":
                received += len(item.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return item

        async def watched(item: Message) -> None:
            nonlocal started
            started = started or item["type"] == "http.response.start"
            await send(item)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # the app did not answer it (see too_large)
            if started:
                raise
            await _plain(send, 413, exc.message())


def _size(size: int) -> str:
    return f"{size // 1024} KiB" if size < 2**20 else f"{size / 2**20:g} MiB"


CSRF_COOKIE = "taper_csrf"
CSRF_FIELD = "csrf_token"


class CsrfTokens:
    """Double-submit tokens signed with a secret made for this process: the cookie holds a
    random value, each form the value's HMAC; a post is accepted when they match."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret if secret is not None else secrets.token_bytes(32)

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(32)

    def token(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode("ascii"), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: object) -> bool:
        if not cookie or not isinstance(token, str) or not cookie.isascii() or len(cookie) > 100:
            return False
        return hmac.compare_digest(self.token(cookie), token)


async def too_large(request: Any, exc: Exception) -> Any:
    """The app's answer to :class:`BodyTooLarge` raised while it read a form."""
    from starlette.responses import PlainTextResponse

    assert isinstance(exc, BodyTooLarge)
    return PlainTextResponse(exc.message(), 413)
