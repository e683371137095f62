"""A provider's line read in bounded pieces: spots, counts and the front of the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import Appointment, ReliabilityScore, Status
from core.rules.queue_spot import Spot
from core.services import (
    booking,
    calling,
    lines,
    queue_pages,
    service_accounts,
    status_changes,
    users,
)

NOW = datetime.now(UTC)
SPA = "+12025550179"


async def _line_of(durations_and_penalties):
    account = await service_accounts.create_service_account(phone=SPA, name="Spa")
    booked = []
    for i, (duration, penalty) in enumerate(durations_and_penalties):
        phone = f"+1415555{i:04d}"
        user = await users.create_user(name=f"U{i}", phone=phone)
        if penalty:
            # A prior no-show recorded now weighs `no_show_weight` (2.0) per event.
            await ReliabilityScore.create(
                user_id=user.id, service_account_id=account.id, no_shows=penalty / 2, as_of=NOW
            )
        view = await booking.book(
            user_phone=phone,
            service_account_phone=SPA,
            appointment_date=NOW.date(),
            duration_minutes=duration,
            now=NOW,
        )
        booked.append(view)
    return account, booked


async def test_a_spot_counts_those_ranked_ahead_and_their_durations(orm):
    account, booked = await _line_of([(30, 0), (45, 4), (15, 0), (20, 2)])
    # Ranked by penalty, then booking time: U0 (0), U2 (0), U3 (2), U1 (4).
    spots = [await lines.spot(appointment_id=b.id) for b in booked]
    assert spots == [Spot(1, 0, 0), Spot(4, 3, 65), Spot(2, 1, 30), Spot(3, 2, 45)]
    assert await lines.count_waiting(service_account_id=account.id, day=NOW.date()) == 4


async def test_a_called_or_closed_appointment_has_no_spot_and_leaves_the_line(orm):
    _account, booked = await _line_of([(30, 0), (45, 0), (15, 0)])
    called = await calling.call_next(service_account_phone=SPA, now=NOW)
    assert called is not None
    assert called.appointment.id == booked[0].id
    assert called.still_waiting == 2
    await status_changes.cancel(appointment_id=booked[2].id, now=NOW)
    assert await lines.spot(appointment_id=booked[0].id) is None
    assert await lines.spot(appointment_id=booked[2].id) is None
    assert await lines.spot(appointment_id=booked[1].id) == Spot(1, 0, 0)


async def test_the_front_of_the_line_is_read_without_the_rest(orm):
    account, booked = await _line_of([(10, 0)] * 5)
    front = await lines.waiting(service_account_id=account.id, day=NOW.date(), limit=2)
    assert [a.id for a in front] == [booked[0].id, booked[1].id]
    assert front[0].user.name == "U0"
    third = await calling.closable(service_account_phone=SPA, position=3, now=NOW)
    assert third is not None
    assert third.id == booked[2].id
    assert await calling.closable(service_account_phone=SPA, position=6, now=NOW) is None
    assert await calling.closable(service_account_phone=SPA, position=0, now=NOW) is None


async def test_a_provider_queue_reply_counts_everyone_but_lists_only_the_front(orm):
    from bot.engine import handle_message
    from core.models import Channel

    await _line_of([(10, 0)] * 120)
    reply = (await handle_message(channel=Channel.CONSOLE, phone=SPA, text="queue", now=NOW)).text
    assert "120 waiting" in reply
    assert "more" in reply
    assert await Appointment.filter(status=Status.ACTIVE).count() == 120


async def test_a_spot_on_a_later_day_is_its_own_line(orm):
    _account, _booked = await _line_of([(30, 0)])
    await users.create_user(name="Late", phone="+14155559999")
    later = await booking.book(
        user_phone="+14155559999",
        service_account_phone=SPA,
        appointment_date=(NOW + timedelta(days=1)).date(),
        now=NOW,
    )
    assert await lines.spot(appointment_id=later.id) == Spot(1, 0, 0)


async def test_the_queue_page_as_json_says_exactly_what_the_views_say(orm):
    """On PostgreSQL the database writes the page's JSON; it must match ours."""
    import json

    import orjson

    from core.models import Appointment

    _account, booked = await _line_of([(30, 0)] * 6)
    odd = {
        booked[0].id: {"penalty": 0.0, "notes": None},
        booked[1].id: {"penalty": 1.0, "notes": 'quote " and \\ backslash'},
        booked[2].id: {"penalty": 0.5, "notes": "naïve café ✂ emoji 🙂"},
        booked[3].id: {"penalty": 1e-06, "notes": "line\nbreak"},
        booked[4].id: {"penalty": 12345.678901, "notes": ""},
        booked[5].id: {"penalty": 2.0, "notes": None},
    }
    for appointment_id, values in odd.items():
        await Appointment.filter(id=appointment_id).update(**values)
    # Whole seconds and microseconds both occur in stored datetimes.
    await Appointment.filter(id=booked[0].id).update(
        created_at=NOW.replace(microsecond=0), appointment_date=NOW.replace(microsecond=0)
    )
    selection = queue_pages.QueueSelection(service_account_phone=SPA, day=NOW.date())
    views = await queue_pages.queue(selection)
    ours = json.loads(orjson.dumps(views, option=orjson.OPT_UTC_Z))
    theirs = json.loads(await queue_pages.queue_json(selection))
    assert theirs == ours
    # Equal numbers are not enough: 1 and 1.0 compare equal, but the API promises floats.
    assert [type(item["penalty"]) for item in theirs] == [float] * len(theirs)
    stamps = {item["id"]: item["created_at"] for item in theirs}
    assert "." not in stamps[booked[0].id]
    assert "." in stamps[booked[1].id]


async def test_a_providers_line_is_read_through_an_index_under_a_generic_plan(orm):
    """The ORM binds status as a parameter; the read must not fall back to a full scan."""
    from tortoise import connections

    from tests.conftest import ON_POSTGRES

    if not ON_POSTGRES:
        pytest.skip("PostgreSQL's generic plans")
    account, _booked = await _line_of([(10, 0)] * 3)
    conn = connections.get("default")
    async with conn.acquire_connection() as raw:
        # On a handful of rows a scan is cheapest; forbid it to see what else is usable.
        await raw.execute("SET enable_seqscan = off")
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        await raw.execute(
            "PREPARE line(int, date, text) AS SELECT id FROM appointments "
            "WHERE service_account_id = $1 AND day = $2 AND status = $3"
        )
        rows = await raw.fetch(f"EXPLAIN EXECUTE line({account.id}, CURRENT_DATE, 'active')")
        plan = "\n".join(r[0] for r in rows)
        await raw.execute("DEALLOCATE line")
        # Our pool does not reset sessions, so undo what this test set.
        await raw.execute("RESET ALL")
    assert "idx_appointments_account_day" in plan, plan
