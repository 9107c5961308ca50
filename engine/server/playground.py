"""The playground: one self-contained HTML page (no CDN, no build step) at GET /ui (a browser's
GET / is redirected there) that
classifies through the server's own POST endpoint, in the spirit of the Hub's widget."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib import resources

from ..defaults import DEFAULT_TEMPLATE
from .config import ServerConfig

PLACEHOLDER = "/*ZSC_CONFIG*/null"


@cache
def _page_source() -> str:
    return (resources.files("zsc.engine.server") / "playground.html").read_text(encoding="utf-8")


def playground_page(config: ServerConfig) -> str:
    """The page with what it needs to know about this server. With tokens, model ids are for token
    holders (as on /health): the page asks /models once a token is typed, and until then posts to
    POST /, the default model's route."""
    settings = {"models": None if config.tokens else list(config.models), "default": None if config.tokens else config.default_model_id,
                "auth": bool(config.tokens), "template": DEFAULT_TEMPLATE}
    # JSON inside <script>: "<" escaped, so no value can close the script element.
    return _page_source().replace(PLACEHOLDER, json.dumps(settings).replace("<", "\\u003c"))


def _hashes(page: str, element: str) -> str:
    """CSP sources for the page's inline ``element``s: the sha256 of each one's text."""
    bodies = re.findall(rf"<{element}>(.*?)</{element}>", page, flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in bodies)


def security_headers(page: str) -> dict[str, str]:
    """The page's headers: no framing (clickjacking), its own inline script and style only (by
    hash: nothing injected runs), requests to this server only, no referrer."""
    policy = (f"default-src 'none'; script-src {_hashes(page, 'script')}; style-src {_hashes(page, 'style')}; "
              "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}
