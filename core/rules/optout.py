"""Carrier-level opt-out and opt-in keywords, as Twilio applies them on long codes.

Twilio acts on these words before our webhook sees them: after STOP it answers the
customer itself and refuses our sends (error 21610) until START. We mirror that state
so no channel sends proactive messages to someone who said STOP.
"""

from __future__ import annotations

from enum import StrEnum

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
# Opt-out words that also mean "take me out of the line": the carrier opts the sender
# out, and they leave every line they are waiting in.
_LEAVING = frozenset({"CANCEL"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
# Opt-in words that are also everyday answers ("join SPA today?" "yes").
_ANSWERS = frozenset({"YES"})

# Twilio matches the whole message, ignoring case and surrounding blanks; people add a
# full stop or an exclamation mark, which we forgive too.
_TRIM = " \t\r\n.!"


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    # Opts out at the carrier, and leaves every line (CANCEL).
    OPT_OUT_LEAVE = "opt_out_leave"
    OPT_IN = "opt_in"
    # Opts in at the carrier, and still means something to the conversation.
    OPT_IN_ANSWER = "opt_in_answer"


def carrier_keyword(text: str) -> Keyword | None:
    word = text.strip(_TRIM).upper()
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT_LEAVE if word in _LEAVING else Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN_ANSWER if word in _ANSWERS else Keyword.OPT_IN
    return None
