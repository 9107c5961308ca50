"""Bearer tokens: with --token-file, every model route needs one of the listed tokens."""

from __future__ import annotations

import hmac

from .errors import HttpError


def authorize(tokens: frozenset[str], authorization: str | None) -> None:
    """Raise 401 unless ``authorization`` is "Bearer <a listed token>"; no tokens: accept anything."""
    if not tokens:
        return  # no tokens configured: any Authorization header is accepted and ignored
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    # Compare against every token so timing does not reveal which one nearly matched.
    matched = False
    for known in tokens:
        matched |= hmac.compare_digest(token.encode(), known.encode())
    if scheme.lower() != "bearer" or not matched:
        raise HttpError(401, "Authorization: Bearer <token> required", headers={"WWW-Authenticate": "Bearer"})
