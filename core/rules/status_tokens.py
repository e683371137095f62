"""Status-link tokens: how one is made, stored and recognised (pure; no I/O)."""

from __future__ import annotations

import hashlib
import re
import secrets

# 16 random bytes: 128 bits, 22 URL-safe characters (the issue asks for at least 96).
TOKEN_BYTES = 16
# Shapes a token of ours can have; anything else is refused before it is hashed.
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PATH = "/s/"
_IN_TEXT = re.compile(r"/s/[A-Za-z0-9_-]+")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """What the table stores and is searched by: the token's SHA-256, hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_SHAPE.match(token))


def mask_links_in(text: str) -> str:
    """`text` with every status link's token hidden: a token opens a customer's page."""
    return _IN_TEXT.sub("/s/***", text)


def link(base: str, token: str) -> str:
    return base.rstrip("/") + PATH + token
