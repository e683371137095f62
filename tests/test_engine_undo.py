"""UNDO through the engine on a real database: the provider's last NEXT, DONE or NOSHOW
is put back exactly (status, timestamps, running score) within 10 minutes, once, and
refused clearly when it cannot be, changing nothing."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import provider_replies
from core.models import Appointment, Channel, ReliabilityScore, Status, UndoSnapshot
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment
from core.rules.undo import Action, Outcome
from core.services import calling, status_changes, undo
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    TOMORROW,
    say,
    spa,
    two_places,
)
from tests.test_engine_here_why import notices_to


async def spot_of(who: str) -> dict:
    rows = await Appointment.filter(user__phone=PHONES[who]).order_by("-id").values(
        "id", "status", "status_changed_at", "called_at", "confirmed_at", "day"
    )
    return rows[0]


async def score_of(who: str) -> tuple | None:
    row = await ReliabilityScore.filter(user__phone=PHONES[who]).first()
    return None if row is None else (row.cancellations, row.no_shows, row.as_of)


async def test_undo_after_next_puts_the_customer_back_at_the_front_and_tells_them(spa):
    await say("ann", "join")
    await say("bob", "join")
    before = await spot_of("ann")
    await say("spa", "next", minutes=1)
    assert (await spot_of("ann"))["called_at"] is not None

    reply = await say("spa", "undo", minutes=2)
    assert reply == "Undone NEXT: Ann B. (***0101) is back in line at #1. Text QUEUE to see your line."
    assert fits_one_segment(reply)
    assert await spot_of("ann") == before
    back = notice_texts.back_in_line(place_name="Zen Spa", position=1)
    assert back in await notices_to("ann")
    assert fits_one_segment(back)
    assert (await say("ann", "status", minutes=3)).startswith("Zen Spa today: #1")


async def test_undo_after_a_no_show_restores_the_visit_and_the_score_exactly(spa):
    await say("ann", "join")
    # An older cancellation, decayed by now: the undo must not subtract one from a decayed
    # value, but give back this very row.
    await say("ann", "join tomorrow")
    await status_changes.cancel(
        appointment_id=(await spot_of("ann"))["id"], now=NOW - timedelta(days=9)
    )
    old_score = await score_of("ann")
    assert old_score is not None
    await say("spa", "next", minutes=1)
    called = await Appointment.get(user__phone=PHONES["ann"], day=NOW.date())
    await say("spa", "noshow", minutes=2)
    assert (await score_of("ann")) != old_score

    reply = await say("spa", "undo", minutes=3)
    assert reply.startswith("Undone NOSHOW: Ann B. (***0101) is called again")
    assert await score_of("ann") == old_score
    after = await Appointment.get(id=called.id)
    assert (after.status, after.status_changed_at, after.called_at, after.confirmed_at) == (
        called.status, called.status_changed_at, called.called_at, called.confirmed_at
    )
    # Still called, as they were told: no new notice for them.
    assert not any("back in line" in t for t in await notices_to("ann"))


async def test_undo_of_a_first_no_show_leaves_no_score_behind(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("spa", "noshow")
    assert await score_of("ann") is not None
    await say("spa", "undo", minutes=1)
    assert await score_of("ann") is None
    assert (await spot_of("ann"))["status"] == Status.ACTIVE


async def test_undo_after_done_reopens_the_visit_and_a_second_undo_is_refused(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("spa", "done", minutes=5)
    assert (await spot_of("ann"))["status"] == Status.COMPLETED
    assert (await say("spa", "undo", minutes=6)).startswith("Undone DONE: Ann B.")
    reopened = await spot_of("ann")
    assert reopened["status"] == Status.ACTIVE
    assert reopened["status_changed_at"] is None

    again = await say("spa", "undo", minutes=7)
    assert again.startswith("Your last action was already undone.")
    # The NEXT before it stays: only the last action can be undone.
    assert (await spot_of("ann"))["called_at"] is not None


async def test_only_the_latest_action_is_undone(spa):
    await say("ann", "join")
    await say("bob", "join")
    await say("spa", "next")
    await say("spa", "next", minutes=1)
    await say("spa", "undo", minutes=2)
    assert (await spot_of("ann"))["called_at"] is not None
    assert (await spot_of("bob"))["called_at"] is None


@pytest.mark.parametrize(("minutes", "undone"), [(10, True), (10.02, False), (30, False)])
async def test_undo_is_allowed_for_ten_minutes(spa, minutes, undone):
    await say("ann", "join")
    await say("spa", "next")
    reply = await say("spa", "undo", minutes=minutes)
    assert reply.startswith("Undone NEXT") is undone, reply
    if not undone:
        assert reply == "Too late to undo NEXT: it was over 10 minutes ago."
        assert (await spot_of("ann"))["called_at"] is not None


async def test_undo_with_nothing_to_undo_says_what_undo_does(spa):
    reply = await say("spa", "undo")
    assert reply == provider_replies.undo(
        outcome=Outcome.NOTHING, action=None, name=None, phone=None, position=None
    )
    assert "NEXT, DONE or NOSHOW within 10 min" in reply
    assert fits_one_segment(reply)


async def test_undo_is_refused_when_the_customer_booked_another_spot_that_day(two_places):
    await say("ann", "join spa")
    await say("spa", "next")
    await say("spa", "noshow")
    score = await score_of("ann")
    await say("ann", "join gdn", minutes=1)
    reply = await say("spa", "undo", minutes=2)
    assert reply == (
        "Can't undo NOSHOW: Ann B. (***0101) has another spot that day. Nothing was changed."
    )
    assert fits_one_segment(reply)
    statuses = await Appointment.filter(user__phone=PHONES["ann"]).order_by("id").values_list(
        "status", flat=True
    )
    assert statuses == [Status.NO_SHOW, Status.ACTIVE]
    assert await score_of("ann") == score
    assert (await UndoSnapshot.all().order_by("-id").first()).undone_at is None


async def test_undo_is_refused_when_the_called_customer_left_since(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("ann", "leave", minutes=1)
    left = await spot_of("ann")
    reply = await say("spa", "undo", minutes=2)
    assert reply.startswith("Can't undo NEXT: Ann B. (***0101) left or their record changed")
    assert await spot_of("ann") == left


async def test_undo_is_refused_when_the_score_changed_since(spa):
    await say("ann", "join")
    await say("ann", "join tomorrow")
    tomorrow = await spot_of("ann")
    assert tomorrow["day"] == TOMORROW
    await say("spa", "next")
    await say("spa", "noshow")
    await status_changes.cancel(appointment_id=tomorrow["id"], now=NOW + timedelta(minutes=1))
    score = await score_of("ann")
    reply = await say("spa", "undo", minutes=2)
    assert reply.startswith("Can't undo NOSHOW")
    assert await score_of("ann") == score
    assert (await Appointment.get(user__phone=PHONES["ann"], day=NOW.date())).status == (
        Status.NO_SHOW
    )


async def test_a_status_change_by_the_admin_api_is_not_the_providers_to_undo(spa):
    await say("ann", "join")
    await say("spa", "next")
    ann = await spot_of("ann")
    # As the admin API's status route does: no undo_as.
    await status_changes.complete(appointment_id=ann["id"], now=NOW + timedelta(minutes=1))
    assert await UndoSnapshot.filter(action=Action.DONE).count() == 0
    reply = await say("spa", "undo", minutes=2)
    assert reply.startswith("Can't undo NEXT")
    assert (await spot_of("ann"))["status"] == Status.COMPLETED


async def test_an_automatic_no_show_can_be_made_undoable_by_the_service(spa):
    await say("ann", "join")
    called = await calling.call_next(service_account_phone=PHONES["spa"], now=NOW)
    assert called is not None
    await status_changes.mark_no_show(
        appointment_id=called.appointment.id, now=NOW, undo_as=Action.AUTO_NOSHOW
    )
    undone = await undo.undo_last(service_account_phone=PHONES["spa"], now=NOW)
    assert undone.outcome is Outcome.UNDONE
    assert undone.action is Action.AUTO_NOSHOW
    assert await score_of("ann") is None


@pytest.mark.parametrize("text", ["UNDO", "undo please", "oops", "revert"])
async def test_every_way_of_saying_undo_undoes(spa, text):
    await say("ann", "join")
    await say("spa", "next")
    assert (await say("spa", text)).startswith("Undone NEXT")


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.CONSOLE])
async def test_undo_answers_the_same_on_other_channels(spa, channel):
    await say("ann", "join")
    await say("spa", "next", channel=channel)
    assert (await say("spa", "undo", channel=channel)).startswith("Undone NEXT")


async def test_every_undo_reply_fits_one_segment_with_the_longest_names():
    long = "Bartholomew-Alexander Featherstonehaugh"
    await_free = [
        provider_replies.undo(
            outcome=outcome, action=action, name=long, phone="+14155550101", position=999
        )
        for outcome in Outcome
        for action in Action
    ]
    for reply in await_free:
        assert fits_one_segment(reply), reply
    assert fits_one_segment(notice_texts.back_in_line(place_name="X" * 200, position=999))


async def test_a_registered_customer_is_not_a_provider_who_can_undo(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("bob", "undo")
    assert (await spot_of("ann"))["called_at"] is not None


async def test_undo_of_done_by_position_puts_a_waiting_customer_back_without_a_notice(spa):
    for who in ("ann", "bob", "cy"):
        await say(who, "join")
    await say("spa", "done 2")
    assert (await spot_of("bob"))["status"] == Status.COMPLETED
    told = await notices_to("bob")
    reply = await say("spa", "undo", minutes=1)
    assert reply == "Undone DONE: Bob C. (***0102) is back in line at #2. Text QUEUE to see your line."
    assert (await spot_of("bob"))["status"] == Status.ACTIVE
    # Nobody told Bob his visit was closed, so the undo tells him nothing new either;
    # standing 2nd again, he hears he is up soon, as anyone moving up to 2nd does.
    assert await notices_to("bob") == [*told, notice_texts.up_soon(place_name="Zen Spa")]


async def test_after_an_undone_call_the_customer_hears_once_that_they_are_back(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("spa", "undo", minutes=1)
    notices = await notices_to("ann")
    assert notices[-1] == notice_texts.back_in_line(place_name="Zen Spa", position=1)
    assert notices[-2].startswith("It's your turn")


async def test_two_undos_at_once_undo_the_action_once(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("spa", "noshow")
    at = NOW + timedelta(minutes=1)
    outcomes = await asyncio.gather(
        *(undo.undo_last(service_account_phone=PHONES["spa"], now=at) for _ in range(2))
    )
    assert sorted(o.outcome for o in outcomes) == [Outcome.ALREADY_UNDONE, Outcome.UNDONE]
    assert await score_of("ann") is None
