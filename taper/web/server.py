"""Run the page on this machine: ``taper serve`` (uvicorn serving :func:`create_app`).

The server listens on the loopback interface unless another address is given (with a
warning: the page has no login). The socket is bound before the server starts, so the
address printed is the one served (``--port 0`` picks a free port) and a port in use is one
clear line.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import webbrowser
from collections.abc import Callable

from taper.errors import InvalidRequestError, literal, require_extra
from taper.web.security import is_loopback

LOOPBACK = "127.0.0.1"


def url_of(host: str, port: int) -> str:
    try:
        bracketed = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        bracketed = host
    return f"http://{bracketed}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port``, or one line saying why not."""
    if host in {"", "0.0.0.0", "::", "*"}:
        shown = host or "''"
        raise InvalidRequestError(
            "{host} would serve every interface, and the page checks each request's Host "
            "header against the address it serves; give the one address to serve on, e.g. "
            "192.168.1.10",
            parameters={"host": shown},
        )
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise InvalidRequestError(f"cannot serve on {host!r}: {exc.strerror or exc}") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise InvalidRequestError(
            f"cannot listen on {literal(host)}:{port}: {literal(str(exc.strerror or exc))}; "
            "choose another {port}",
            parameters={"port": None},
        ) from None
    return listener


def serve(
    host: str | None = None,
    port: int = 8000,
    *,
    open_browser: bool = False,
    say: Callable[[str], object] = print,
    warn: Callable[[str], object] = print,
) -> None:
    """Serve the pages until stopped (Ctrl-C). ``say`` gets the address, ``warn`` the
    warning for an address other than loopback."""
    require_extra("starlette", "taper serve", "web")
    require_extra("uvicorn", "taper serve", "web")
    import uvicorn

    from taper.web.app import create_app

    host = host or LOOPBACK
    listener = bind(host, port)
    served_port = listener.getsockname()[1]
    url = url_of(host, served_port)
    if not is_loopback(host):
        warn(
            f"taper: warning: serving on {host}, not only this machine: anyone who can reach "
            "it can use the page, which has no login and no encryption (HTTP)"
        )
    config = uvicorn.Config(
        create_app(host, port=served_port),
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            say(f"taper: serving {url} (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
