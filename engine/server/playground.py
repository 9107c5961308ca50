"""The playground: one self-contained HTML page (no CDN, no build step) at GET /ui (a browser's
GET / is redirected there) that
classifies through the server's own POST endpoint, in the spirit of the Hub's widget."""

from __future__ import annotations

import json
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
