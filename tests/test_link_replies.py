"""A reply that carries a status link is one GSM-7 segment whatever the place, the day
and the wait: the link in a shorter reply when that fits, else in a message of its own
after the reply, left as it is without a link."""

from __future__ import annotations

import pytest

from bot import link_replies, replies
from core.rules import status_tokens
from core.rules.gsm import fits_one_segment
from core.rules.queue_spot import Spot

# The longest PUBLIC_BASE_URL promised to fit, and a token as long as ours.
LINK = status_tokens.link("https://queue.clinic-example.org", status_tokens.new_token())
PLACES = ["Zen Spa", "Ünïcödé Bärbershop & Nail Studio {Downtown}", "X" * 200]
DAYS = ["today", "tomorrow", "Wed 29 Dec 2027"]
SPOTS = [
    Spot(1, 0, 0),
    Spot(12, 11, 95),
    Spot(999, 998, 14_999, (13_000, 16_000)),
    Spot(3, 2, 25, (15, 35)),
]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("spot", SPOTS)
@pytest.mark.parametrize("no_set_times", [False, True])
def test_a_join_reply_with_its_link_is_one_segment_or_two_whole_messages(
    place, day, spot, no_set_times
):
    linked = link_replies.joined(
        place_name=place, day=day, spot=spot, no_set_times=no_set_times, link=LINK
    )
    unlinked = replies.joined(place_name=place, day=day, spot=spot, no_set_times=no_set_times)
    if linked.follow_up is None:
        assert LINK in linked.text
        assert fits_one_segment(linked.text), linked.text
    else:
        # Left as it is without a link: nothing cut from it, nothing added.
        assert linked.text == unlinked
        assert LINK in linked.follow_up
        assert fits_one_segment(linked.follow_up)


def test_a_plain_join_at_a_short_place_carries_the_link_in_the_one_reply():
    linked = link_replies.joined(
        place_name="Zen Spa", day="today", spot=Spot(3, 2, 25, (15, 35)), no_set_times=False, link=LINK
    )
    assert linked.follow_up is None
    assert linked.text == f"You're in line at Zen Spa today: #3, 2 ahead, 15-35 min wait. Live: {LINK}"


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("spot", [*SPOTS, None])
def test_a_status_reply_with_its_link_is_one_segment_or_two_whole_messages(place, day, spot):
    standing = replies.Standing(place_name=place, day=day, spot=spot)
    linked = link_replies.status(standing, link=LINK)
    assert fits_one_segment(linked.text), linked.text
    if linked.follow_up is not None:
        assert linked.text == replies.status([standing])
        assert fits_one_segment(linked.follow_up)
    else:
        assert LINK in linked.text
