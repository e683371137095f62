"""The words that carry a customer's status link (PUBLIC_BASE_URL/s/<token>).

A reply with its link must stay one GSM-7 segment: the link goes in a shorter form of
the reply when that fits, else in a message of its own after the reply, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import replies
from core.locales import say
from core.rules.gsm import fits_one_segment
from core.rules.queue_spot import Spot


@dataclass(frozen=True, slots=True)
class Linked:
    """A reply and, when the link did not fit in it, the message that carries it."""

    text: str
    follow_up: str | None = None


def live(link: str) -> str:
    """The link alone, as its own message."""
    return say("live", link=link)


def _linked(short: str, full: str, link: str) -> Linked:
    if fits_one_segment(short):
        return Linked(short)
    return Linked(full, live(link))


def joined(*, place_name: str, day: str, spot: Spot, no_set_times: bool, link: str) -> Linked:
    full = replies.joined(place_name=place_name, day=day, spot=spot, no_set_times=no_set_times)
    if no_set_times:
        # That reply's point is the "no set times" answer: it is kept whole.
        return Linked(full, live(link))
    where = say("joined", place=replies.place(place_name), day=day, spot=replies.spot_phrase(spot))
    short = f"{where} {say('live_short', link=link)}"
    return _linked(short, full, link)


def status(standing: replies.Standing, *, link: str) -> Linked:
    """STATUS of one spot, with a fresh link to it."""
    full = replies.status([standing])
    short = f"{replies.standing_line(standing)}. {say('live_short', link=link)}"
    return _linked(short, full, link)
