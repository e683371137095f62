"""The catalogs (core/locales/<code>.toml): every language has every reply, with the
same placeholders, and words that mean real commands; a language added as a catalog
alone is answered in, with no code change."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import replies
from core import locales
from core.rules.vocabulary import Command
from core.services import contacts
from tests.test_engine_dialogues import PHONES, say, spa  # noqa: F401 (fixtures)

LANGUAGES = sorted(locales.languages())
ENGLISH = locales.catalog(locales.DEFAULT)


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_there_are_english_and_spanish_catalogs():
    assert {"en", "es"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_has_every_reply_and_no_other(language):
    found = locales.catalog(language)["replies"]
    assert sorted(set(ENGLISH["replies"]) - set(found)) == []
    assert sorted(set(found) - set(ENGLISH["replies"])) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_fills_only_the_placeholders_english_gives_it(language):
    found = locales.catalog(language)["replies"]
    wrong = {
        key: sorted(placeholders(text) - placeholders(ENGLISH["replies"][key]))
        for key, text in found.items()
        if not placeholders(text) <= placeholders(ENGLISH["replies"][key])
    }
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_names_seven_weekdays_and_twelve_months(language):
    names = locales.catalog(language)["names"]
    assert (len(names["weekdays"]), len(names["months"])) == (7, 12)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_catalogs_words_mean_commands_that_exist(language):
    words = locales.catalog(language)["words"]
    for table in ("customer", "provider"):
        for word, command in words[table].items():
            assert Command(command), (table, word)
    assert words["switch"], "a language needs a word that switches to it"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reply_in_each_language_is_its_catalogs_own(language):
    with locales.speaking(language):
        assert replies.not_in_line() == locales.catalog(language)["replies"]["not_in_line"]


def test_an_unknown_language_is_spoken_as_english():
    with locales.speaking("zz"):
        assert replies.sorry() == ENGLISH["replies"]["sorry"]


# A third language, for this test only: English in capitals, placeholders kept.
_FIELD = re.compile(r"(\{[^}]*\})")


def _shouted(template: str) -> str:
    return "".join(p if _FIELD.fullmatch(p) else p.upper() for p in _FIELD.split(template))


@pytest.fixture
def shouting(tmp_path: Path) -> Iterator[str]:
    source = (Path(locales.__file__).parent / "en.toml").read_text(encoding="utf-8")
    lines = []
    for line in source.splitlines():
        key, sep, value = line.partition(" = ")
        in_replies = sep and value.startswith('"') and not key.startswith(("[", "#"))
        lines.append(f"{key} = {_shouted(value)}" if in_replies else line)
    path = tmp_path / "xx.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    locales.add("xx", locales.load(path))
    yield "xx"
    locales.remove("xx")


async def test_a_language_added_as_a_catalog_alone_is_answered_in(spa, shouting):
    await contacts.record_language(phone=PHONES["ann"], language=shouting)
    reply = await say("ann", "status")
    assert reply == _shouted(ENGLISH["replies"]["not_in_line"])
    joined = await say("ann", "join")
    assert joined.startswith("YOU'RE IN LINE AT Zen Spa TODAY: #1, 0 AHEAD, NO WAIT.")


def test_a_notice_for_a_language_with_no_catalog_is_written_in_english():
    with locales.speaking("es"):
        assert locales.say("sorry", language="zz") == ENGLISH["replies"]["sorry"]
        assert locales.say("sorry") == locales.catalog("es")["replies"]["sorry"]
