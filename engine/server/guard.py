"""Which requests the server answers at all: web pages and DNS rebinding cannot drive it.

A page a user visits can send "simple" cross-site requests (a form post, text/plain) to a server
on their machine without asking it first, and a page whose name re-resolves to 127.0.0.1 can
even read the answers. So, before any route runs:

- a POST body must be declared ``application/json`` (no simple cross-site request can say so
  without a CORS preflight, which only ``--allow-origin`` origins pass): 415 otherwise;
- a request with an ``Origin`` header must come from the server's own origin or one listed with
  ``--allow-origin``: 403 otherwise;
- bound to a loopback address, only loopback ``Host`` names (or ``--allowed-hosts``) are
  answered: a rebinding page's name is refused with 400. Bound elsewhere, ``--allowed-hosts``
  (when given) lists the names answered.

A bearer token (``--token-file``) is still what keeps other users and programs out: the guard
stops browsers from being used against the server, not a client that sends what it likes.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import ServerConfig

JSON_MEDIA_TYPE = "application/json"


def is_loopback(name: str) -> bool:
    """A name or address that can only mean this machine."""
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """The name in a Host header, without its port: "[::1]:8080" -> "::1", "a.test:80" -> "a.test"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class RequestGuard:
    """ASGI middleware: refuses, with {"error": ...}, the requests the module docstring lists."""

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.loopback_only = is_loopback(config.host)
        self.allowed_hosts = config.allowed_hosts
        self.allow_origins = config.allow_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope)
            if refusal is not None:
                status, message = refusal
                await JSONResponse({"error": message}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host = headers.get("host")
        if host is not None and not self.host_allowed(host_name(host)):
            where = "a loopback address" if self.loopback_only else "this server"
            return 400, (f"Host {host!r} is not answered on {where}; name it with --allowed-hosts if it is this server")
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin, host):
            return 403, (f"requests from web pages at {origin!r} are refused; start the server with --allow-origin {origin} "
                         "to let that site's pages call it")
        if scope["method"] == "POST":
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != JSON_MEDIA_TYPE:
                shown = media_type or "none"
                return 415, f"the request body must be JSON sent with Content-Type: {JSON_MEDIA_TYPE} (got {shown})"
        return None

    def host_allowed(self, name: str) -> bool:
        if name in self.allowed_hosts:
            return True
        if self.loopback_only:
            return is_loopback(name)
        return not self.allowed_hosts

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        if origin.rstrip("/") in self.allow_origins:
            return True
        own = urlsplit(origin).netloc.lower()
        return bool(own) and host is not None and own == host.strip().lower()
