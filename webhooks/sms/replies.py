"""What the SMS channel itself says; the engine's wording is in bot.replies.

Plain GSM-7 text, each under 160 characters: one SMS segment.
"""

from __future__ import annotations

from bot import replies

SLOW_DOWN = "You are sending messages too fast. Please wait a minute, then text HELP."
CUT = "(Only the first 1600 characters of your text were read.)"
# When the engine could not answer: the engine's own apology, so customers see one wording.
SORRY = replies.sorry()
