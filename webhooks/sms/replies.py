"""What the SMS channel itself says (the engine's wording lives with the engine).

Plain GSM-7 text, each under 160 characters: one SMS segment.
"""

from __future__ import annotations

SLOW_DOWN = "You are sending messages too fast. Please wait a minute, then text HELP."
SORRY = "Sorry, we could not read that just now. Please try again in a minute."
CUT = "(Only the first 1600 characters of your text were read.)"
