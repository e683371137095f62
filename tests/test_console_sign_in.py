"""Signing in to the provider console: a code texted to the provider's phone (through
the outbox and the fake Twilio), its tries, expiry and hourly limit, sessions in an
HttpOnly cookie, signing out here or everywhere, and the admin token."""

from __future__ import annotations

from datetime import timedelta

from core.models import ConsoleSession, SignInCode
from core.rules import console_access as rules
from core.rules.days import utcnow
from core.services import console_access, service_accounts
from tests.console_support import ConsoleUser, last_code_to, sign_in
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    PROVIDER_PHONE,
    deliver_outbox,
    real_sms_fixture,
    start_sms,
    twilio_api_fixture,
)

STRANGER = "+14155550177"


async def _provider():
    return await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa")


async def test_a_provider_signs_in_with_the_code_texted_to_its_phone(real_sms):
    await _provider()
    user = ConsoleUser(real_sms)
    page = await (await user.get("/console")).text()
    assert 'for="phone">Phone<' in page
    assert "Admin token" in page
    await sign_in(user, PROVIDER_PHONE)
    page = await user.page()
    assert "Zen Spa" in page
    assert "Sign out everywhere" in page
    # Only the hashes are stored: neither the code nor the session id is in the tables.
    [code_row] = await SignInCode.all()
    texted = await last_code_to(real_sms, PROVIDER_PHONE)
    assert texted not in code_row.code_hash.split("$")[-1]
    [session] = await ConsoleSession.all()
    assert user.cookies["console_session"] not in session.token_hash
    assert len(user.cookies["console_session"]) >= 22  # 128+ bits, URL-safe


async def test_the_session_cookie_is_httponly_secure_and_lax_and_lasts_12_hours(real_sms):
    await _provider()
    user = ConsoleUser(real_sms)
    await user.post("/console/code", {"phone": PROVIDER_PHONE})
    code = await last_code_to(real_sms, PROVIDER_PHONE)
    response = await user.post("/console/verify", {"phone": PROVIDER_PHONE, "code": code})
    assert response.status == 303
    assert response.headers["Location"] == "/console"
    [cookie] = [c for c in response.headers.getall("Set-Cookie") if "console_session=" in c]
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "secure" in lowered
    assert "samesite=lax" in lowered
    assert f"max-age={12 * 3600}" in lowered


async def test_a_stranger_gets_the_same_answer_and_no_text(real_sms, twilio_api):
    await _provider()
    provider_page = await (
        await ConsoleUser(real_sms).post("/console/code", {"phone": PROVIDER_PHONE})
    ).text()
    response = await ConsoleUser(real_sms).post("/console/code", {"phone": STRANGER})
    assert response.status == 200
    assert await response.text() == provider_page.replace(PROVIDER_PHONE, STRANGER)
    await deliver_outbox(real_sms)
    assert [m.to for m in twilio_api.messages] == [PROVIDER_PHONE]


async def test_a_wrong_code_is_refused_and_the_fifth_wrong_one_spends_the_code(real_sms):
    await _provider()
    user = ConsoleUser(real_sms)
    await user.post("/console/code", {"phone": PROVIDER_PHONE})
    code = await last_code_to(real_sms, PROVIDER_PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(rules.MAX_TRIES - 1):
        response = await user.post("/console/verify", {"phone": PROVIDER_PHONE, "code": wrong})
        assert response.status == 400
        assert "not right" in await response.text()
    response = await user.post("/console/verify", {"phone": PROVIDER_PHONE, "code": wrong})
    assert response.status == 400
    assert "new one" in await response.text()
    # Even the right code no longer opens anything.
    response = await user.post("/console/verify", {"phone": PROVIDER_PHONE, "code": code})
    assert response.status == 400
    assert "console_session" not in user.cookies
    assert await ConsoleSession.all().count() == 0


async def test_a_code_is_used_once(real_sms):
    await _provider()
    await sign_in(ConsoleUser(real_sms), PROVIDER_PHONE)
    code = await last_code_to(real_sms, PROVIDER_PHONE)
    again = await ConsoleUser(real_sms).post(
        "/console/verify", {"phone": PROVIDER_PHONE, "code": code}
    )
    assert again.status == 400


async def test_a_code_expires_after_10_minutes(orm):
    await _provider()
    now = utcnow()
    await console_access.request_code(phone=PROVIDER_PHONE, now=now)
    # The code itself is only in the text; put a known one in its place.
    row = await SignInCode.get(phone=PROVIDER_PHONE)
    row.code_hash = console_access._hash_code(PROVIDER_PHONE, "123456", "salt")
    await row.save()
    late = await console_access.check_code(
        phone=PROVIDER_PHONE, code="123456", now=now + rules.CODE_TTL + timedelta(seconds=1)
    )
    assert late.outcome is console_access.CodeCheck.NEED_NEW
    in_time = await console_access.check_code(
        phone=PROVIDER_PHONE, code="123456", now=now + rules.CODE_TTL - timedelta(seconds=1)
    )
    assert in_time.outcome is console_access.CodeCheck.OK
    assert in_time.account is not None


async def test_a_phone_gets_at_most_5_codes_an_hour_provider_or_not(real_sms, twilio_api):
    await _provider()
    for phone in (PROVIDER_PHONE, STRANGER):
        for _ in range(rules.CODES_PER_WINDOW):
            assert (
                await ConsoleUser(real_sms).post("/console/code", {"phone": phone})
            ).status == 200
        sixth = await ConsoleUser(real_sms).post("/console/code", {"phone": phone})
        assert sixth.status == 429
        assert "Too many codes" in await sixth.text()
    await deliver_outbox(real_sms)
    assert len(twilio_api.messages) == rules.CODES_PER_WINDOW


async def test_an_hour_later_a_phone_may_have_codes_again(orm):
    await _provider()
    start = utcnow()
    for _ in range(rules.CODES_PER_WINDOW):
        await console_access.request_code(phone=PROVIDER_PHONE, now=start)
    assert await console_access.request_code(phone=PROVIDER_PHONE, now=start) == "too_many"
    later = start + rules.CODE_WINDOW + timedelta(seconds=1)
    assert await console_access.request_code(phone=PROVIDER_PHONE, now=later) == "accepted"


async def test_a_phone_that_is_not_a_number_is_a_400_page(real_sms):
    response = await ConsoleUser(real_sms).post("/console/code", {"phone": "call me"})
    assert response.status == 400
    assert "not a phone number" in await response.text()
    response = await ConsoleUser(real_sms).post(
        "/console/verify", {"phone": PROVIDER_PHONE, "code": "abc"}
    )
    assert response.status == 400
    assert "6 digits" in await response.text()


async def test_sign_out_ends_this_session_and_everywhere_ends_them_all(real_sms):
    await _provider()
    desk, phone, tablet = (ConsoleUser(real_sms) for _ in range(3))
    for user in (desk, phone, tablet):
        await sign_in(user, PROVIDER_PHONE)
    kept = dict(desk.cookies)
    assert (await desk.post("/console/sign-out", {})).status == 303
    assert "console_session" not in desk.cookies
    # The old cookie, replayed, opens nothing: the session ended on the server.
    desk.cookies = kept
    assert "Send me a code" in await desk.page()
    assert "Zen Spa" in await phone.page()
    assert (await phone.post("/console/sign-out/everywhere", {})).status == 303
    assert "Send me a code" in await tablet.page()


async def test_a_session_ends_after_12_hours(orm):
    account = await _provider()
    now = utcnow()
    token = await console_access.open_session(account_id=account.id, now=now)
    assert await console_access.session_account(token=token, now=now + timedelta(hours=11))
    assert await console_access.session_account(token=token, now=now + timedelta(hours=12)) is None


async def test_the_admin_token_signs_in_as_the_provider(aiohttp_client, database_url, twilio_api):
    from tests.sms_support import sms_settings

    settings = sms_settings(database_url, twilio_api.url, admin_api_token="s3cr3t-admin-tok")
    sms = await start_sms(aiohttp_client, settings, twilio_api, engine=None)
    await _provider()
    wrong = await ConsoleUser(sms).post(
        "/console/admin", {"token": "not-it", "phone": PROVIDER_PHONE}
    )
    assert wrong.status == 403
    assert "console_session" not in ConsoleUser(sms).cookies
    user = ConsoleUser(sms)
    response = await user.post(
        "/console/admin", {"token": "s3cr3t-admin-tok", "phone": PROVIDER_PHONE}
    )
    assert response.status == 303
    assert "Zen Spa" in await user.page()


async def test_a_cross_origin_sign_in_post_is_refused(real_sms, twilio_api):
    await _provider()
    response = await ConsoleUser(real_sms).post(
        "/console/code", {"phone": PROVIDER_PHONE}, origin="https://evil.example.net"
    )
    assert response.status == 403
    assert await SignInCode.all().count() == 0


async def test_the_code_goes_on_the_channel_the_phone_last_used(orm):
    from core.models import Channel, OutboxMessage
    from core.services import contacts

    await _provider()
    await contacts.record_channel(phone=PROVIDER_PHONE, channel=Channel.TELEGRAM, now=utcnow())
    await console_access.request_code(phone=PROVIDER_PHONE, now=utcnow())
    [message] = await OutboxMessage.all()
    assert message.channel == Channel.TELEGRAM.value
    assert message.recipient == PROVIDER_PHONE
