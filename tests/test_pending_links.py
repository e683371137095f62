"""Status links given in answers are written after the answer, in batches with the
replies (core.services.pending_links); a page asked for before the write waits for
it; on a real database."""

from __future__ import annotations

from core.models import Appointment, StatusLink
from core.rules.days import today_in, utcnow
from core.services import booking, line_ranks, service_accounts, status_links, users
from core.services.deliveries import PendingReplies
from core.services.pending_links import PendingLinks, deferred
from core.services.status_links import Visit
from webhooks.live import LineHub
from webhooks.status_views import StatusViews


async def _waiting(phones: list[str]) -> list[int]:
    account = await service_accounts.create_service_account(phone="+14155559101", name="Zen Spa")
    day = today_in(account.timezone, now=utcnow())
    ids = []
    for n, phone in enumerate(phones):
        await users.create_user(name=f"Customer {n}", phone=phone)
        view = await booking.book(
            user_phone=phone, service_account_phone=account.phone, appointment_date=day
        )
        ids.append(view.id)
    return ids


async def test_links_issued_while_deferred_are_stored_only_by_the_writer_in_one_batch(orm):
    ids = await _waiting(["+14155550501", "+14155550502"])
    day = (await Appointment.get(id=ids[0])).day
    pending = PendingLinks()

    with deferred(pending):
        tokens = [await status_links.issue(appointment_id=i, day=day) for i in ids]
    assert await StatusLink.all().count() == 0
    assert len(pending) == 2

    await PendingReplies(links=pending).write()

    assert len(pending) == 0
    assert await StatusLink.all().count() == 2
    for token in tokens:
        assert isinstance(await status_links.visit(token=token), Visit)


async def test_outside_deferred_a_link_is_stored_at_once(orm):
    [appointment] = await _waiting(["+14155550503"])
    day = (await Appointment.get(id=appointment)).day

    token = await status_links.issue(appointment_id=appointment, day=day)

    assert isinstance(await status_links.visit(token=token), Visit)


async def test_a_page_asked_for_before_its_link_is_written_waits_for_the_write(orm):
    [appointment] = await _waiting(["+14155550504"])
    day = (await Appointment.get(id=appointment)).day
    pending = PendingLinks()
    with deferred(pending):
        token = await status_links.issue(appointment_id=appointment, day=day)
    hub = LineHub()
    views = StatusViews(hub, ranks=line_ranks.RankCache(), pending=pending)

    found = await views.visit(token)

    assert isinstance(found, Visit)
    assert found.appointment_id == appointment
    assert await StatusLink.all().count() == 1
    views.close()


async def test_a_link_whose_appointment_was_deleted_before_the_write_is_dropped_alone(orm):
    ids = await _waiting(["+14155550505", "+14155550506"])
    day = (await Appointment.get(id=ids[0])).day
    pending = PendingLinks()
    with deferred(pending):
        kept = await status_links.issue(appointment_id=ids[0], day=day)
        await status_links.issue(appointment_id=ids[1], day=day)
    await Appointment.filter(id=ids[1]).delete()

    await pending.write()

    assert len(pending) == 0
    assert [row.appointment_id for row in await StatusLink.all()] == [ids[0]]  # type: ignore[attr-defined]
    assert isinstance(await status_links.visit(token=kept), Visit)
