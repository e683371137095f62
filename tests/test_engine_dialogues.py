"""Conversations with the engine, written as tables.

Each step: who texts, what they text, the change it makes to appointments (exactly;
an empty tuple means nothing changed) and words the reply must contain. Every reply is
also checked to be non-empty and to fit one SMS segment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import replies
from bot.engine import handle_message
from core.models import Appointment, Channel, Contact, Conversation, OutboxMessage
from core.rules.gsm import fits_one_segment
from core.services import correspondents, service_accounts, status_changes, users

# A Wednesday in the past, so that outbox rows written "now" are already due.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
TOMORROW = date(2026, 11, 19)
FRIDAY = date(2026, 11, 20)

PHONES = {
    "ann": "+14155550101",
    "bob": "+14155550102",
    "cy": "+14155550103",
    "dee": "+14155550104",
    "new": "+14155550105",
    "new2": "+14155550106",
    "walkin": "+14155550199",
    "spa": "+14155550100",
    "gdn": "+14155550200",
    "kir": "+68655550300",
}
NAMES = {phone: who for who, phone in PHONES.items()}
REGISTERED = {"ann": "Ann Bell", "bob": "Bob Carter", "cy": "Cy Dunn", "dee": "Dee Eve"}

Change = tuple[Any, ...]
Step = tuple[str, str, tuple[Change, ...], tuple[str, ...]]


def booked(who: str, where: str, day: date) -> Change:
    return ("booked", who, where, day)


def became(who: str, where: str, status: str) -> Change:
    return ("status", who, where, status)


def called(who: str) -> Change:
    return ("called", who)


async def _snapshot() -> dict[int, tuple[str, str, date, str, bool]]:
    rows = await Appointment.all().values(
        "id", "user__phone", "service_account__phone", "day", "status", "called_at"
    )
    return {
        r["id"]: (
            NAMES[r["user__phone"]],
            NAMES[r["service_account__phone"]],
            r["day"],
            str(r["status"]),
            r["called_at"] is not None,
        )
        for r in rows
    }


def _changes(before: dict, after: dict) -> list[Change]:
    out: list[Change] = []
    for key, (who, where, day, status, was_called) in after.items():
        if key not in before:
            out.append(booked(who, where, day))
            continue
        _, _, _, old_status, old_called = before[key]
        if status != old_status:
            out.append(became(who, where, status))
        if was_called and not old_called:
            out.append(called(who))
    return sorted(out, key=repr)


async def say(
    who: str,
    text: str,
    *,
    minutes: float = 0,
    channel: Channel = Channel.SMS,
    default: str | None = None,
) -> str:
    reply = await handle_message(
        channel=channel,
        phone=PHONES[who],
        text=text,
        default_provider_phone=PHONES[default] if default else None,
        now=NOW + timedelta(minutes=minutes),
    )
    return reply.text


async def run(steps: list[Step]) -> None:
    for number, (who, text, expected, needles) in enumerate(steps, start=1):
        before = await _snapshot()
        reply = await say(who, text)
        where = f"step {number}: {who} {text!r} -> {reply!r}"
        assert reply.strip(), where
        assert fits_one_segment(reply), where
        assert _changes(before, await _snapshot()) == sorted(expected, key=repr), where
        for needle in needles:
            assert needle in reply, where


@pytest.fixture
async def spa(orm):
    """One provider (so it is the default) and four registered customers."""
    await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA"
    )
    for who, name in REGISTERED.items():
        await users.create_user(name=name, phone=PHONES[who])


@pytest.fixture
async def two_places(spa):
    await service_accounts.create_service_account(
        phone=PHONES["gdn"], name="Zen Garden", code="GDN"
    )


@pytest.fixture
async def far_east(spa):
    # UTC+14: at 15:00 UTC on Wednesday it is already Thursday there.
    await service_accounts.create_service_account(
        phone=PHONES["kir"], name="Kiri Cuts", code="KIR", timezone="Pacific/Kiritimati"
    )


async def test_a_new_customer_gives_a_name_once_and_is_booked_without_repeating_the_request(spa):
    await run([
        ("new", "Hi, can I join please?", (), ("What's your name?",)),
        ("new", "Nina Park", (booked("new", "spa", TODAY),), ("Zen Spa today", "#1", "0 ahead")),
        ("new2", "book tomorrow", (), ("name",)),
        ("new2", "hi", (), ("didn't catch a name",)),
        ("new2", "my name is omar diaz", (booked("new2", "spa", TOMORROW),), ("tomorrow", "#1")),
        ("new", "where am i?", (), ("#1",)),
    ])
    assert (await users.get_user(phone=PHONES["new2"])).name == "Omar Diaz"


async def test_customers_join_check_and_leave_the_line(spa):
    await run([
        ("ann", "join", (booked("ann", "spa", TODAY),), ("#1", "0 ahead", "no wait")),
        ("bob", "JOIN SPA", (booked("bob", "spa", TODAY),),
         ("#2", "1 ahead", "about 30 min wait")),
        ("bob", "status", (), ("#2", "1 ahead", "30 min")),
        ("bob", "?", (), ("#2",)),
        ("ann", "I can't make it", (became("ann", "spa", "canceled"),), ("left", "Zen Spa")),
        ("bob", "position please", (), ("#1", "0 ahead")),
        ("bob", "leave", (became("bob", "spa", "canceled"),), ("left",)),
        ("bob", "status", (), ("not in any line",)),
        ("bob", "leave", (), ("not in any line",)),
        ("bob", "jion", (booked("bob", "spa", TODAY),), ("#1",)),
        ("bob", "join", (), ("already have a spot", "#1")),
    ])


async def test_a_provider_runs_the_line_by_text(spa):
    await run([
        ("ann", "join", (booked("ann", "spa", TODAY),), ()),
        ("bob", "join", (booked("bob", "spa", TODAY),), ()),
        ("cy", "join", (booked("cy", "spa", TODAY),), ()),
        ("spa", "queue", (), ("3 waiting", "1 Ann B. 0101 0m", "2 Bob C. 0102 30m")),
        ("spa", "done", (), ("Nobody has been called",)),
        ("spa", "next", (called("ann"),), ("Called Ann B. (***0101)", "2 still waiting")),
        ("ann", "status", (), ("your turn",)),
        ("spa", "queue", (), ("Now: Ann B.", "1 Bob C.")),
        ("spa", "done", (became("ann", "spa", "completed"),), ("Done: Ann B.", "2 waiting")),
        ("spa", "no show 1", (became("bob", "spa", "no_show"),), ("No-show: Bob C.",)),
        ("spa", "add +1 (415) 555-0199 Walt Inman", (booked("walkin", "spa", TODAY),),
         ("Added Walt I. (***0199) for today", "#2", "1 ahead")),
        ("spa", "add +14155550199", (), ("already has a spot",)),
        ("spa", "add", (), ("ADD +",)),
        ("spa", "done 9", (), ("no #9",)),
        ("spa", "done #9999", (), ("No active appointment #9999",)),
        ("spa", "nxet", (called("cy"),), ("Called Cy D.",)),
        ("spa", "DONE", (became("cy", "spa", "completed"),), ("Done: Cy D.",)),
        ("spa", "join", (), ("Try",)),
        ("spa", "help", (), ("QUEUE", "NEXT", "DONE", "NOSHOW", "ADD")),
        ("spa", "queue tomorrow", (), ("tomorrow: 0 waiting",)),
    ])
    walk_in = await users.get_user(phone=PHONES["walkin"])
    assert walk_in.name == "Walt Inman"


async def test_a_provider_closes_a_visit_by_appointment_id(spa):
    await say("ann", "join")
    appointment = await Appointment.get(user__phone=PHONES["ann"])
    await run([
        ("spa", f"done #{appointment.id}", (became("ann", "spa", "completed"),), ("Done",)),
    ])


async def test_a_provider_cannot_close_a_visit_before_its_day(spa):
    await say("ann", "join friday")
    appointment = await Appointment.get(user__phone=PHONES["ann"])
    await run([
        ("spa", f"noshow #{appointment.id}", (), (f"#{appointment.id} is booked for Fri 20 Nov",)),
        ("spa", f"done #{appointment.id}", (), ("close it on that day",)),
    ])
    # On Friday the same visit closes, and before it the customer can still leave.
    friday = NOW + timedelta(days=2)
    reply = await handle_message(
        channel=Channel.SMS, phone=PHONES["spa"], text=f"noshow #{appointment.id}", now=friday
    )
    assert "No-show: Ann B." in reply.text


async def test_a_customer_can_leave_a_later_day_at_any_time(spa):
    await run([
        ("ann", "join friday", (booked("ann", "spa", FRIDAY),), ()),
        ("ann", "leave", (became("ann", "spa", "canceled"),), ("left",)),
    ])


async def test_ambiguity_gets_a_numbered_choice_and_the_answer_is_kept(two_places):
    await run([
        ("ann", "join tomorrow", (), ("Which place? Reply 1 Zen Spa (SPA), 2 Zen Garden (GDN)",)),
        ("ann", "2", (booked("ann", "gdn", TOMORROW),), ("Zen Garden tomorrow", "#1")),
        ("ann", "join zen", (), ("1 Zen Spa", "2 Zen Garden")),
        ("ann", "7", (), ("number from 1 to 2",)),
        ("ann", "1", (booked("ann", "spa", TODAY),), ("Zen Spa today",)),
        ("ann", "status", (), ("Your spots", "Zen Spa today", "Zen Garden tomorrow")),
        ("ann", "leave", (), ("Which one? Reply 1 Zen Spa today; 2 Zen Garden tomorrow",)),
        ("ann", "3", (), ("number from 1 to 2",)),
        ("ann", "2", (became("ann", "gdn", "canceled"),), ("left the line at Zen Garden",)),
        ("ann", "join nowhere", (), ('"nowhere"', "1 Zen Spa")),
        ("ann", "status", (), ("Zen Spa today",)),
        ("ann", "leave spa", (became("ann", "spa", "canceled"),), ("Zen Spa",)),
    ])


async def test_a_pending_question_lives_in_the_database_with_an_expiry(two_places):
    await say("ann", "join")
    row = await Conversation.get(phone=PHONES["ann"], channel=Channel.SMS.value)
    assert row.state == "ask_place"
    assert row.expires_at == NOW + timedelta(minutes=30)
    before = await _snapshot()
    reply = await say("ann", "1", minutes=31)
    assert await _snapshot() == before
    assert "didn't get that" in reply


async def test_the_provider_number_texted_is_the_default_place(two_places):
    reply = await say("ann", "join", default="gdn")
    assert "Zen Garden" in reply
    reply = await say("bob", "join spa", default="gdn")
    assert "Zen Spa" in reply


@pytest.mark.parametrize(
    ("text", "place", "day"),
    [
        ("JOIN SPA", "spa", TODAY),
        ("join spa tomorrow", "spa", TOMORROW),
        ("Book Zen Spa on Friday please", "spa", FRIDAY),
        ("jion spa fri", "spa", FRIDAY),
        ("join +1 415 555 0100 2026-12-24", "spa", date(2026, 12, 24)),
        ("join the queue at spa 24/12", "spa", date(2026, 12, 24)),
        ("hello, I'd like to book at the spa for 20/11 thanks", "spa", FRIDAY),
        ("sign up kiri", "kir", TOMORROW),  # its today is already Thursday
        ("join KIR today", "kir", TOMORROW),
        ("join kiri cuts tomorrow", "kir", FRIDAY),
    ],
)
async def test_places_and_days_are_read_in_the_providers_time_zone(far_east, text, place, day):
    await run([("ann", text, (booked("ann", place, day),), ("#1",))])


async def test_days_that_cannot_be_booked_are_explained(spa):
    await run([
        ("ann", "join spa 2026-11-01", (), ("passed",)),
        ("ann", "join spa 31/02", (), ("couldn't read that day",)),
    ])


async def test_one_active_spot_per_day_across_places(two_places):
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ()),
        ("ann", "join gdn", (), ("already have a spot at Zen Spa today",)),
        ("ann", "join gdn tomorrow", (booked("ann", "gdn", TOMORROW),), ()),
    ])


async def test_unknown_text_gets_hints_and_help_is_one_segment(spa):
    await run([
        ("ann", "what's the weather", (), ("Sorry, I didn't get that. Try",)),
        ("ann", "help", (), ("JOIN", "STATUS", "LEAVE", "not CANCEL")),
        ("new", "hello", (), ("What's your name?",)),
        ("new", "HELP", (), ("JOIN",)),
        ("new", "Nina Park", (), ("Thanks, Nina!",)),
    ])
    assert (await users.get_user(phone=PHONES["new"])).name == "Nina Park"


async def test_after_stop_no_proactive_message_goes_out_but_replies_still_do(spa):
    await say("ann", "join")
    await say("bob", "join")
    await run([("ann", "STOP", (), ("unsubscribed", "START"))])
    assert (await Contact.get(phone=PHONES["ann"])).opted_out
    await say("spa", "next")
    reply = await say("ann", "status")
    assert "your turn" in reply
    from core.services.outbox.dispatcher import Dispatcher
    from tests.test_dispatcher import Recorder

    recorder = Recorder(Channel.SMS)
    await Dispatcher({Channel.SMS: recorder}).run_once()
    assert [to for to, _, _ in recorder.sent] == [PHONES["bob"]]
    statuses = {m.recipient: m.status for m in await OutboxMessage.all()}
    assert statuses[PHONES["ann"]] == "skipped"
    await run([("ann", "start", (), ("subscribed again",))])
    assert not (await Contact.get(phone=PHONES["ann"])).opted_out


async def test_people_near_the_front_hear_it_once_per_position(spa):
    for who in ("ann", "bob", "cy", "dee"):
        await say(who, "join")

    async def outbox() -> set[tuple[str, str]]:
        rows = await OutboxMessage.all().values_list("recipient", "idempotency_key")
        # Keys name the appointment second; near: adds the position, turn: the call.
        return {
            (NAMES[r], f"{kind}:{rest[-1] if kind == 'near' else rest[0]}")
            for r, key in rows
            for kind, *rest in [key.split(":")]
        }

    assert await outbox() == set()
    await say("spa", "next")
    assert await outbox() == {("ann", "turn:" + _id_of("ann")), ("bob", "near:1"), ("cy", "near:2")}
    await say("spa", "done")
    assert len(await outbox()) == 3
    await say("spa", "next")
    assert await outbox() - {("ann", "turn:" + _id_of("ann"))} == {
        ("bob", "near:1"), ("cy", "near:2"),
        ("bob", "turn:" + _id_of("bob")), ("cy", "near:1"), ("dee", "near:2"),
    }
    await say("cy", "leave")
    assert ("dee", "near:1") in await outbox()
    texts = {m.text for m in await OutboxMessage.all()}
    assert replies.your_turn(place_name="Zen Spa") in texts
    assert replies.you_are_next(place_name="Zen Spa") in texts
    assert replies.up_soon(place_name="Zen Spa") in texts


def _id_of(who: str) -> str:
    # Appointment ids follow the join order above on a fresh database.
    return str(["ann", "bob", "cy", "dee"].index(who) + 1)


async def test_a_cancel_through_the_admin_service_also_moves_people_up(spa):
    for who in ("ann", "bob"):
        await say(who, "join")
    first = await Appointment.get(user__phone=PHONES["ann"])
    await status_changes.cancel(appointment_id=first.id, now=NOW)
    keys = await OutboxMessage.all().values_list("recipient", flat=True)
    assert list(keys) == [PHONES["bob"]]


async def test_proactive_messages_go_back_the_way_the_customer_last_wrote(spa):
    await say("ann", "join", channel=Channel.TELEGRAM)
    await say("bob", "join", channel=Channel.SMS)
    await say("spa", "next")
    channels = {NAMES[m.recipient]: m.channel for m in await OutboxMessage.all()}
    assert channels == {"ann": "telegram", "bob": "sms"}
    await users.create_user(name="Walt Inman", phone=PHONES["walkin"])
    await say("spa", "add +14155550199")
    await say("spa", "done")
    await say("spa", "next")
    # Never texted us: a phone number is reached by SMS.
    assert {m.channel for m in await OutboxMessage.filter(recipient=PHONES["walkin"])} == {"sms"}


async def test_a_failure_inside_the_engine_becomes_an_apology_not_an_exception(spa, monkeypatch):
    async def broken(**_: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(correspondents, "identify", broken)
    assert await say("ann", "status") == replies.sorry()


async def test_a_provider_cannot_be_mistaken_for_a_customer(spa):
    await run([("spa", "join spa", (), ("Sorry",))])


async def test_the_channel_a_phone_last_wrote_from_is_remembered(spa):
    async def remembered() -> str | None:
        return (await Contact.get(phone=PHONES["ann"])).preferred_channel

    await say("ann", "status", channel=Channel.TELEGRAM)
    assert await remembered() == "telegram"
    await say("ann", "status", channel=Channel.SMS)
    assert await remembered() == "sms"
    await say("ann", "help", channel=Channel.SMS)
    assert await remembered() == "sms"
    await say("spa", "queue", channel=Channel.TELEGRAM)
    assert (await Contact.get(phone=PHONES["spa"])).preferred_channel == "telegram"
    assert await Contact.all().count() == 2
