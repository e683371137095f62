"""Staff phones: the admin API creates, replaces and reads a provider's `staff_phones`
(phones read as every phone of the API is), and a staff phone signs in to that
provider's console and sends its text commands (NEXT by SMS)."""

from __future__ import annotations

from core.models import Appointment
from core.rules.days import today_in, utcnow
from core.services import booking, service_accounts, users
from tests.api_helpers import data_of, detail_of, make_provider
from tests.console_support import ConsoleUser, sign_in
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    PROVIDER_PHONE,
    one_reply,
    real_sms_fixture,
    twilio_api_fixture,
)

DESK = "+14155550160"
FLOOR = "+14155550161"


async def test_the_admin_api_creates_replaces_and_reads_staff_phones(client):
    made = await make_provider(client, PROVIDER_PHONE, staff_phones=["+1 (415) 555-0160"])
    assert made["staff_phones"] == [DESK]
    path = f"/service-accounts/{PROVIDER_PHONE}"
    changed = await data_of(await client.put(path, json={"staff_phones": [FLOOR, FLOOR]}), 200)
    assert changed["staff_phones"] == [FLOOR]
    assert (await data_of(await client.get(path), 200))["staff_phones"] == [FLOOR]
    listed = await data_of(await client.get("/service-accounts/"), 200)
    assert listed[0]["staff_phones"] == [FLOOR]
    # Another change leaves them as they are; [] removes them.
    kept = await data_of(await client.put(path, json={"name": "Renamed"}), 200)
    assert kept["staff_phones"] == [FLOOR]
    cleared = await data_of(await client.put(path, json={"staff_phones": []}), 200)
    assert cleared["staff_phones"] == []


async def test_bad_staff_phones_are_a_clear_4xx(client):
    await make_provider(client, PROVIDER_PHONE, staff_phones=[DESK])
    path = f"/service-accounts/{PROVIDER_PHONE}"
    assert "staff_phones" in str(
        await detail_of(await client.put(path, json={"staff_phones": ["call me"]}), 422)
    )
    assert "own phone" in await detail_of(
        await client.put(path, json={"staff_phones": [PROVIDER_PHONE]}), 422
    )
    await detail_of(await client.put(path, json={"staff_phones": None}), 422)
    # A phone is staff of one provider at most, and no provider's own phone.
    response = await client.post(
        "/service-accounts/",
        json={"name": "Other", "phone": "+12025550100", "staff_phones": [DESK]},
    )
    assert "another provider" in await detail_of(response, 400)
    response = await client.post(
        "/service-accounts/",
        json={"name": "Other", "phone": "+12025550100", "staff_phones": [PROVIDER_PHONE]},
    )
    assert "own phone" in await detail_of(response, 400)


async def test_a_staff_phone_signs_in_to_its_providers_console(real_sms):
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", staff_phones=[DESK]
    )
    user = ConsoleUser(real_sms)
    await sign_in(user, DESK)
    assert "Zen Spa" in await user.page()


async def test_a_staff_phone_sends_next_by_sms_for_its_provider(real_sms):
    account = await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", staff_phones=[DESK]
    )
    await users.register(phone=ANN, name="Ann Bell")
    await booking.add_to_line(
        user_phone=ANN, account=account, day=today_in(account.timezone, now=utcnow())
    )
    reply = await one_reply(real_sms, DESK, "NEXT")
    assert "Called Ann" in reply
    assert (await Appointment.get(user__phone=ANN)).called_at is not None
