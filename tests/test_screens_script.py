"""`python -m examples.screens`: the demo board's screenshots at TV sizes, and the
other pages' NAME=PATH@WIDTHxHEIGHT entries."""

from __future__ import annotations

import argparse

import pytest

from examples import screens


def test_a_page_entry_names_the_file_the_path_and_the_viewport():
    assert screens.parse_page("status=/s/abc@390x844") == screens.Shot("status", "/s/abc", 390, 844)
    with pytest.raises(argparse.ArgumentTypeError):
        screens.parse_page("status=/s/abc")


async def test_the_script_shoots_the_demo_board_at_tv_sizes(browser, tmp_path):
    # `browser` only for its skip-or-fail rule: the script launches its own chromium.
    shots = [screens.parse_page(p) for p in screens.DEMO_PAGES]
    await screens._demo(shots, tmp_path)
    for name in ("board-tv.png", "board-720p.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
