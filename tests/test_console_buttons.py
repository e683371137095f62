"""The console's line and buttons, over real HTTP: each button runs the provider's text
command (the same core service and the same words), changes the database as that
command does, and sends the browser back to the console (303) with the result."""

from __future__ import annotations

from datetime import timedelta

from core.models import Appointment, ReliabilityScore, ServiceAccount, Status
from core.rules.days import today_in, utcnow
from core.services import booking, service_accounts, users
from tests.console_support import ConsoleUser, sign_in
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    real_sms_fixture,
    twilio_api_fixture,
)

CAROL = "+14155550103"
XSS = "<script>alert(1)</script>"


async def _line(*people: tuple[str, str], code: str | None = "SPA") -> ServiceAccount:
    account = await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", code=code
    )
    today = today_in(account.timezone, now=utcnow())
    for phone, name in people:
        await users.register(phone=phone, name=name)
        await booking.add_to_line(user_phone=phone, account=account, day=today)
    return account


async def _console(real_sms) -> ConsoleUser:
    user = ConsoleUser(real_sms)
    await sign_in(user, PROVIDER_PHONE)
    return user


async def _spot(phone: str) -> Appointment:
    return await Appointment.get(user__phone=phone)


async def test_the_console_shows_the_line_with_positions_last_4_digits_waits_and_marks(real_sms):
    await _line((ANN, "Ann Bell"), (BOB, "Bob Carter"))
    ann = await _spot(ANN)
    await ReliabilityScore.create(
        user_id=ann.user_id,
        service_account_id=ann.service_account_id,
        no_shows=2.2,
        cancellations=0,
        as_of=utcnow(),
    )
    page = await (await _console(real_sms)).page()
    assert "Ann Bell" in page
    assert "Bob Carter" in page
    assert "***0101" in page
    assert ANN not in page
    assert "2 recent no-shows" in page
    assert "clean" in page
    assert "30 min" in page
    for label in (
        "Next",
        "Done",
        "No-show",
        "Add walk-in",
        "Remove",
        "Undo",
        "Close",
        "Open",
        "Delay",
    ):
        assert f">{label}<" in page


async def test_next_calls_the_first_in_line_and_says_so(real_sms):
    await _line((ANN, "Ann Bell"), (BOB, "Bob Carter"))
    user = await _console(real_sms)
    response = await user.press("next")
    assert response.headers["Location"] == "/console"
    assert (await _spot(ANN)).called_at is not None
    assert (await _spot(BOB)).called_at is None
    page = await user.page()
    assert "Called Ann" in page
    assert "1 still waiting" in page
    # The result is shown once.
    assert "Called Ann" not in await user.page()


async def test_done_completes_the_person_called_and_no_show_is_penalised(real_sms):
    await _line((ANN, "Ann Bell"), (BOB, "Bob Carter"))
    user = await _console(real_sms)
    await user.press("next")
    await user.press("done")
    assert (await _spot(ANN)).status is Status.COMPLETED
    await user.press("next")
    await user.press("noshow")
    bob = await _spot(BOB)
    assert bob.status is Status.NO_SHOW
    assert (await ReliabilityScore.get(user_id=bob.user_id)).no_shows > 0


async def test_a_rows_done_and_no_show_act_on_that_row(real_sms):
    await _line((ANN, "Ann Bell"), (BOB, "Bob Carter"))
    user = await _console(real_sms)
    bob = await _spot(BOB)
    await user.press("noshow", appointment_id=str(bob.id))
    assert (await _spot(BOB)).status is Status.NO_SHOW
    assert (await _spot(ANN)).status is Status.ACTIVE


async def test_remove_cancels_without_a_penalty(real_sms):
    await _line((ANN, "Ann Bell"))
    user = await _console(real_sms)
    ann = await _spot(ANN)
    await user.press("remove", appointment_id=str(ann.id))
    assert (await _spot(ANN)).status is Status.CANCELED
    assert await ReliabilityScore.filter(user_id=ann.user_id).count() == 0
    assert "Removed Ann Bell" in await user.page()


async def test_remove_of_another_providers_spot_is_a_404_and_changes_nothing(real_sms):
    await _line()
    other = await service_accounts.create_service_account(phone="+12025550100", name="Other")
    await users.register(phone=ANN, name="Ann Bell")
    await booking.add_to_line(user_phone=ANN, account=other, day=today_in("UTC", now=utcnow()))
    user = await _console(real_sms)
    ann = await _spot(ANN)
    response = await user.post("/console/do", {"action": "remove", "appointment_id": str(ann.id)})
    assert response.status == 404
    assert (await _spot(ANN)).status is Status.ACTIVE


async def test_add_walk_in_adds_a_typed_number_and_refuses_a_bad_one(real_sms):
    await _line()
    user = await _console(real_sms)
    await user.press("add", phone="(415) 555-0103", name="Carol Diaz")
    carol = await Appointment.get(user__phone=CAROL).select_related("user")
    assert carol.user.name == "Carol Diaz"
    response = await user.post("/console/do", {"action": "add", "phone": "12", "name": "Dan"})
    assert response.status == 400
    assert "phone number" in await response.text()
    assert await Appointment.all().count() == 1


async def test_undo_takes_back_the_last_call(real_sms):
    await _line((ANN, "Ann Bell"))
    user = await _console(real_sms)
    await user.press("next")
    await user.press("undo")
    assert (await _spot(ANN)).called_at is None


async def test_close_and_open_set_and_clear_todays_closing(real_sms):
    account = await _line()
    user = await _console(real_sms)
    await user.press("close")
    assert (await ServiceAccount.get(id=account.id)).closed_on is not None
    assert "Closed" in await user.page()
    await user.press("open")
    assert (await ServiceAccount.get(id=account.id)).closed_on is None


async def test_delay_sets_the_minutes_and_refuses_a_non_number(real_sms):
    account = await _line((ANN, "Ann Bell"))
    user = await _console(real_sms)
    await user.press("delay", minutes="20")
    assert (await ServiceAccount.get(id=account.id)).delay_minutes == 20
    response = await user.post("/console/do", {"action": "delay", "minutes": "soon"})
    assert response.status == 400
    assert "minutes" in await response.text()


async def test_a_cross_origin_post_is_refused_with_403_and_changes_nothing(real_sms):
    await _line((ANN, "Ann Bell"))
    user = await _console(real_sms)
    for origin in ("https://evil.example.net", None):
        response = await user.post("/console/do", {"action": "next"}, origin=origin)
        assert response.status == 403
    assert (await _spot(ANN)).called_at is None


async def test_a_button_without_a_session_is_a_401(real_sms):
    await _line((ANN, "Ann Bell"))
    response = await ConsoleUser(real_sms).post("/console/do", {"action": "next"})
    assert response.status == 401
    assert (await _spot(ANN)).called_at is None


async def test_an_unknown_button_or_a_bad_day_is_a_400_page(real_sms):
    await _line()
    user = await _console(real_sms)
    response = await user.post("/console/do", {"action": "explode"})
    assert response.status == 400
    response = await user.get("/console?day=yesterday-ish")
    assert response.status == 400
    assert "YYYY-MM-DD" in await response.text()


async def test_the_day_picker_shows_another_days_line(real_sms):
    account = await _line((ANN, "Ann Bell"))
    tomorrow = today_in(account.timezone, now=utcnow()) + timedelta(days=1)
    await users.register(phone=BOB, name="Bob Carter")
    await booking.add_to_line(user_phone=BOB, account=account, day=tomorrow)
    user = await _console(real_sms)
    page = await (await user.get(f"/console?day={tomorrow.isoformat()}")).text()
    assert "Bob Carter" in page
    assert "Ann Bell" not in page


async def test_a_customer_named_like_a_script_is_shown_as_text(real_sms):
    await _line((ANN, XSS))
    page = await (await _console(real_sms)).page()
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_provider_without_a_code_is_told_how_to_set_one(real_sms):
    await _line(code=None)
    page = await (await _console(real_sms)).page()
    assert "no public board" in page


async def test_the_cross_origin_refusal_is_a_page_that_says_why(real_sms):
    await _line()
    user = await _console(real_sms)
    response = await user.post(
        "/console/do", {"action": "close"}, origin="https://evil.example.net"
    )
    assert response.status == 403
    assert response.content_type == "text/html"
    assert "Cross-origin request refused" in await response.text()
    assert (await ServiceAccount.get(phone=PROVIDER_PHONE)).closed_on is None


async def test_a_walk_in_joins_the_day_shown_and_keeps_a_name_that_looks_like_a_day(real_sms):
    account = await _line()
    tomorrow = today_in(account.timezone, now=utcnow()) + timedelta(days=1)
    user = await _console(real_sms)
    response = await user.post(
        "/console/do",
        {"action": "add", "phone": CAROL, "name": "Friday Jones", "day": tomorrow.isoformat()},
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/console?day={tomorrow.isoformat()}"
    carol = await Appointment.get(user__phone=CAROL).select_related("user")
    assert carol.day == tomorrow
    assert carol.user.name == "Friday Jones"


async def test_a_private_board_opens_for_its_providers_console_session_and_no_other(real_sms):
    account = await _line((ANN, "Ann Bell"))
    await service_accounts.update_service_account(
        phone=account.phone, changes={"board_public": False}
    )
    other = await service_accounts.create_service_account(
        phone="+14155550199", name="Other Spa", code="OTHER", board_public=False
    )
    user = await _console(real_sms)
    board = await user.get("/board/SPA")
    assert board.status == 200
    assert "Ann B." in await board.text()
    assert (await user.get(f"/board/{other.code}")).status == 403
    stranger = ConsoleUser(real_sms)
    assert (await stranger.get("/board/SPA")).status == 403
