"""The layers import downwards only: rules import nothing of the frameworks or I/O,
the core nothing of the channels (bot, webhooks), the bot nothing of the web app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    """Top-level module names each file of `package` imports, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "core/rules",
            {
                "aiohttp",
                "tortoise",
                "asyncpg",
                "aiosqlite",
                "telegram",
                "twilio",
                "bot",
                "webhooks",
            },
        ),
        ("core", {"bot", "webhooks", "aiohttp", "telegram", "twilio"}),
        ("bot", {"webhooks", "aiohttp"}),
    ],
)
def test_a_layer_imports_nothing_from_the_layers_above_it(package, forbidden):
    offending = {
        path: sorted(names & forbidden)
        for path, names in imported_modules(package).items()
        if names & forbidden
    }
    assert offending == {}


# A module that grows past this holds more than one thing: split it by what it holds.
MODULE_LINES_MAX = 350


@pytest.mark.parametrize("package", ["core", "bot"])
def test_no_module_of_the_core_or_the_bot_is_over_350_lines(package):
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES_MAX
    }
    assert long == {}
