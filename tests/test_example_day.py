"""examples/day.py, the day the README shows, runs as documented and tells its story."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_day_example_runs_a_late_a_delay_a_grace_expiry_its_undo_and_stats():
    done = subprocess.run(
        [sys.executable, "-m", "examples.day"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Bob > I'll be 40 min late" in out
    assert "you're now #3" in out
    assert "Told 4 people waiting today you run about 10 min behind" in out
    assert "[text to Cy] Reminder: it's your turn at Fade Barbers." in out
    assert "[text to Shop] Cy M. (***0103) did not confirm in 10 min: marked no-show." in out
    assert "Undone the no-show: Cy M. (***0103) is called again" in out
    assert "[text to Cy] Sorry, Fade Barbers has reopened your spot" in out
    assert "Today: 2 served, 0 no-shows (0%)" in out
    # Nothing went wrong on the way (a traceback, a delivery the outbox gave up on).
    assert "Traceback" not in done.stderr
