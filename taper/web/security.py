"""What keeps the local page safe by default, as plain ASGI layers around the app.

- :class:`SecurityHeaders`: every response carries a strict Content-Security-Policy (scripts
  and styles only from this server, no inline script or style, no framing), with
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and no caching (a
  plan is patient data).
- :class:`HostCheck`: a request whose ``Host`` header is not an address and port the page is
  served on is refused (DNS rebinding: another site's name pointed at 127.0.0.1 must not reach
  it, nor a page of another server on this machine that names this one's address).
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
#: The port a ``Host`` header without one means (``http:``).
HTTP_PORT = 80


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _normal(name: str) -> str:
    """A host name in lower case, an IP address in its shortest form (``0:0::1`` is ``::1``)."""
    name = name.strip().lower().strip("[]")
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def _shown(name: str, port: int) -> str:
    """``"[::1]:8000"``, ``"localhost"`` (port 80): how a browser's Host header writes it."""
    bracketed = f"[{name}]" if ":" in name else name
    return bracketed if port == HTTP_PORT else f"{bracketed}:{port}"


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The ``Host`` headers accepted for a server listening on ``host`` and ``port``, as
    :func:`host_header` reads them (``"localhost:8000"``, ``"[::1]:8000"``)."""
    names = LOOPBACK_NAMES | {_normal(host)} if is_loopback(host) else {_normal(host)}
    return frozenset(_shown(name, port) for name in names)


def host_header(header: str) -> str | None:
    """A ``Host`` header as :func:`allowed_hosts` writes it: its name (an IP address in its
    shortest form) and its port, left out when it is 80 (``"LOCALHOST:80"`` is
    ``"localhost"``); None for a header that is no host and port (an IPv6 address without
    brackets, a port that is not a number)."""
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, rest = header[1:].partition("]")
        if not bracket:
            return None
    elif header.count(":") > 1:
        return None
    else:
        name, colon, rest = header.partition(":")
        rest = colon + rest
    if rest in {"", ":"}:
        port = HTTP_PORT
    elif rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit() and len(rest) <= 6:
        port = int(rest[1:])
    else:
        return None
    if not name or port > 65535:
        return None
    return _shown(_normal(name), port)


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
    """Refuses (400) a request whose ``Host`` header (name and port) is none of ``hosts``
    (see :func:`allowed_hosts`)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers", []))
            given = headers.get(b"host", b"").decode("latin-1")
            if host_header(given) not in self.hosts:
                shown = given.strip()[:100]
                await _plain(
                    send,
                    400,
                    "taper: error: this page is served for "
                    f"{', '.join(sorted(self.hosts))} only, not for the host {shown!r}\n",
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
