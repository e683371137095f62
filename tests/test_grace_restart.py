"""A grace period survives a kill -9 of the server in its middle: the timers live in the
database, so the restarted `waitlist serve` fires the expiry once, after the restart, and
the customer and the provider each hear of it once.

A real server process on the real clock, the fake Twilio behind it; the customer joins
and the provider calls by signed SMS webhooks, as in production.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import aiohttp

from core.models import Appointment, GraceTimer, OutboxMessage, OutboxStatus, Status, UndoSnapshot
from core.rules import notice_texts
from core.rules.days import utcnow
from core.rules.undo import Action
from core.services import service_accounts, users
from tests.fakes.twilio_api import FakeTwilio, Webhooks
from tests.sms_support import ANN, OUR_NUMBER, PROVIDER_PHONE, PUBLIC
from tests.test_sms_restart import start_server, stop

# Half a minute: ample for the call, its "your turn" and the kill to happen inside it
# however slow the machine, and short enough to wait for.
GRACE = 0.5
WITHIN = 120.0


async def _until(condition: Callable[[], Awaitable[bool]], *, within: float = WITHIN) -> None:
    """Return once the awaitable `condition()` is true (the server writes the database)."""
    async with asyncio.timeout(within):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.1)


async def test_a_server_killed_mid_grace_fires_the_expiry_once_after_its_restart(
    orm, tmp_path, unused_tcp_port
):
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", code="SPA", grace_minutes=GRACE
    )
    await users.create_user(name="Ann Bell", phone=ANN)
    turn = notice_texts.your_turn(place_name="Zen Spa")
    no_show = notice_texts.grace_no_show(name="Ann Bell", phone=ANN, minutes="0.5")
    closed = notice_texts.grace_closed(place_name="Zen Spa", minutes="0.5")

    async def turn_sent() -> bool:
        return await OutboxMessage.filter(
            idempotency_key__startswith="turn:", status=OutboxStatus.SENT
        ).exists()

    async def expiry_fired() -> bool:
        return await GraceTimer.filter(kind="expiry", fired_at__isnull=False).exists()

    base = f"http://127.0.0.1:{unused_tcp_port}"
    async with FakeTwilio() as api, aiohttp.ClientSession(base_url=base) as session:
        hooks = Webhooks(session, PUBLIC)
        first = await start_server(orm, api, tmp_path, unused_tcp_port)
        try:
            for sender, body in ((ANN, "join"), (PROVIDER_PHONE, "next")):
                response = await hooks.sms(sender=sender, body=body, to=OUR_NUMBER)
                assert response.status == 200, await response.text()
            # Our "your turn" reached Ann (so the expiry is a no-show), then the kill.
            await _until(turn_sent)
            await stop(first, signal.SIGKILL)
        finally:
            await stop(first, signal.SIGKILL)
        assert not await expiry_fired(), "the kill should come inside the grace period"

        restarted_at = utcnow()
        second = await start_server(orm, api, tmp_path, unused_tcp_port)
        try:
            await _until(expiry_fired)
            await api.wait_until(
                lambda: any(m.to == PROVIDER_PHONE and m.body == no_show for m in api.messages),
                within=WITHIN,
            )
            await api.wait_until(
                lambda: any(m.to == ANN and m.body == closed for m in api.messages),
                within=WITHIN,
            )
        finally:
            await stop(second, signal.SIGTERM)

    [expiry] = await GraceTimer.filter(kind="expiry")
    assert expiry.fired_at is not None
    assert expiry.fired_at >= restarted_at
    assert (await Appointment.get(user__phone=ANN)).status is Status.NO_SHOW
    assert await UndoSnapshot.filter(action=Action.AUTO_NOSHOW.value).count() == 1
    for prefix in ("grace-expired:", "grace-closed:", "grace-reminder:"):
        assert await OutboxMessage.filter(idempotency_key__startswith=prefix).count() == 1
    # Each reached its phone once.
    assert [m.body for m in api.messages if m.to == PROVIDER_PHONE].count(no_show) == 1
    to_ann = [m.body for m in api.messages if m.to == ANN]
    assert (to_ann.count(turn), to_ann.count(closed)) == (1, 1)
    assert await GraceTimer.filter(fired_at__isnull=True).count() == 0
