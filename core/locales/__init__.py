"""The service's words, one catalog per language: `core/locales/<code>.toml`.

A catalog holds `[replies]`, the templates of everything the service says (for
str.format, by key), `[names]` (weekdays, months) and `[words]`, what a text is read
with (core.rules.vocabulary merges every catalog's words). A language is one file: a
translation of en.toml with the same keys and the same placeholders, which
tests/test_locales.py holds every catalog to.

Catalogs are loaded once, at import: a reply costs a dict lookup and a format. The
language a reply is written in is the one being spoken (`speaking`): the engine speaks
the language of whoever it answers for the whole of one message; a notice to someone
else names its recipient's language (`language=`).
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT = "en"

Catalog = dict[str, Any]
_CATALOGS: dict[str, Catalog] = {}
_speaking: ContextVar[str] = ContextVar("speaking", default=DEFAULT)


def add(code: str, catalog: Catalog) -> None:
    """Make `catalog` the language `code` (a test's extra language comes in this way too)."""
    _CATALOGS[code] = catalog


def remove(code: str) -> None:
    """Forget the language `code` (a test's extra language, after the test)."""
    _CATALOGS.pop(code, None)


def load(path: Path) -> Catalog:
    with path.open("rb") as file:
        return tomllib.load(file)


def _load_all() -> None:
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            add(entry.name.removesuffix(".toml"), tomllib.loads(entry.read_text("utf-8")))


_load_all()


def languages() -> frozenset[str]:
    return frozenset(_CATALOGS)


def catalog(code: str) -> Catalog:
    return _CATALOGS[code]


def fold(word: str) -> str:
    """A word as texts are matched: lower case, accents dropped ("Llegué" -> "llegue")."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Write every reply said inside the block in `code` (an unknown code: English)."""
    token = _speaking.set(code if code in _CATALOGS else DEFAULT)
    try:
        yield
    finally:
        _speaking.reset(token)


def spoken() -> str:
    """The language being spoken now."""
    return _speaking.get()


def code_of(language: str | None) -> str:
    """The catalog `language` is written in: its own, or English for none or one with no
    catalog (None: the one being spoken)."""
    return _code(language)


def _code(language: str | None) -> str:
    if language is None:
        return _speaking.get()
    return language if language in _CATALOGS else DEFAULT


def say(key: str, /, *, language: str | None = None, **values: object) -> str:
    """The reply `key` in `language` (None: the one being spoken; one with no catalog:
    English), filled with `values`."""
    template: str = _CATALOGS[_code(language)]["replies"][key]
    return template.format(**values)


def names(key: str, /, *, language: str | None = None) -> list[str]:
    """A list of names (`weekdays`, `months`) in `language`, as `say` picks it."""
    found: list[str] = _CATALOGS[_code(language)]["names"][key]
    return found
