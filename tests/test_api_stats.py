"""GET /service-accounts/{phone}/stats and /appointments.csv, and STATS by text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.engine import handle_message
from core.models import Channel, ServiceAccount, User
from core.services import booking, calling, service_accounts, status_changes, users
from core.settings import Settings
from tests.api_helpers import data_of, detail_of
from tests.sms_support import (  # noqa: F401 (fixtures)
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from tests.stats_support import seed_closed
from webhooks.app import create_app

SPA, OTHER = "+12025550179", "+12025550180"
ANN, BOB, CY, DEE = "+14155550101", "+14155550102", "+14155550103", "+14155550104"
DAY = date(2026, 11, 18)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def _a_day_at_the_spa() -> None:
    """Cy booked the evening before; Ann and Bob that morning; Dee joined and left.

    Cy waits from the day's opening (midnight UTC) to 09:30: 570 min, then 20 min of
    service; Ann waits 60 and is served in 30; Bob waits 90 and does not come.
    """
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await service_accounts.create_service_account(phone=OTHER, name="Elsewhere")
    for phone, name in ((ANN, "Ann Lee"), (BOB, "Bob Chen"), (CY, "Cy Dunn"), (DEE, "Dee Fox")):
        await users.create_user(name=name, phone=phone)
    await booking.book(
        user_phone=CY,
        service_account_phone=SPA,
        appointment_date=DAY,
        now=at(18, 0, DAY - timedelta(days=1)),
    )
    await booking.book(user_phone=ANN, service_account_phone=SPA, appointment_date=DAY, now=at(9))
    await booking.book(
        user_phone=BOB, service_account_phone=SPA, appointment_date=DAY, now=at(9, 10)
    )
    dee = await booking.book(
        user_phone=DEE, service_account_phone=SPA, appointment_date=DAY, now=at(9, 20)
    )
    await status_changes.cancel(appointment_id=dee.id, now=at(9, 25))
    # Elsewhere's customers count only for Elsewhere.
    await booking.book(user_phone=DEE, service_account_phone=OTHER, appointment_date=DAY, now=at(9))
    for called, closed, close in (
        (at(9, 30), at(9, 50), status_changes.complete),
        (at(10), at(10, 30), status_changes.complete),
        (at(10, 40), at(11), status_changes.mark_no_show),
    ):
        found = await calling.call_next(service_account_phone=SPA, now=called)
        assert found is not None
        await close(appointment_id=found.appointment.id, now=closed)
    # Ann's spot for the next day is still open.
    await booking.book(
        user_phone=ANN,
        service_account_phone=SPA,
        appointment_date=DAY + timedelta(days=1),
        now=at(12),
    )


async def _seed_anns(*, count: int, start: date, days: int) -> None:
    """Closed visits of Ann's at the spa (tests.stats_support.seed_closed)."""
    spa = await ServiceAccount.get(phone=SPA)
    ann = await User.get(phone=ANN)
    await seed_closed(user_id=ann.id, account_id=spa.id, count=count, start=start, days=days)


async def test_stats_give_counts_rate_waits_and_service_per_day_and_in_total(client):
    await _a_day_at_the_spa()
    response = await client.get(
        f"/service-accounts/{SPA}/stats", params={"from": "2026-11-17", "to": "2026-11-19"}
    )
    data = await data_of(response, 200)
    assert (data["service_account_phone"], data["from"], data["to"]) == (
        SPA,
        "2026-11-17",
        "2026-11-19",
    )
    total = data["total"]
    assert (total["served"], total["no_shows"], total["cancellations"]) == (2, 1, 1)
    assert total["no_show_rate"] == pytest.approx(1 / 3)
    assert total["median_wait_minutes"] == pytest.approx(90)
    # Between the 2nd and 3rd of 60, 90, 570 at 0.8 of the way.
    assert total["p90_wait_minutes"] == pytest.approx(474)
    assert total["median_service_minutes"] == pytest.approx(25)
    assert total["estimate_error_minutes"] is None
    assert [d["day"] for d in data["days"]] == ["2026-11-18", "2026-11-19"]
    assert data["days"][0]["served"] == 2
    assert data["days"][1] == {
        "day": "2026-11-19",
        "served": 0,
        "cancellations": 0,
        "no_shows": 0,
        "no_show_rate": None,
        "median_wait_minutes": None,
        "p90_wait_minutes": None,
        "median_service_minutes": None,
        "estimate_error_minutes": None,
    }


async def test_stats_of_a_range_without_appointments_are_zeros_and_nulls(client):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    response = await client.get(
        f"/service-accounts/{SPA}/stats", params={"from": "2026-01-01", "to": "2026-12-31"}
    )
    data = await data_of(response, 200)
    assert data["days"] == []
    assert data["total"]["served"] == 0
    assert data["total"]["median_wait_minutes"] is None


@pytest.mark.parametrize("route", ["stats", "appointments.csv"])
@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"from": "2026-11-19", "to": "2026-11-18"}, 400, "from must be on or before to"),
        ({"from": "2025-11-17", "to": "2026-11-18"}, 400, "at most 366 days"),
        ({"from": "18/11/2026", "to": "2026-11-18"}, 422, "YYYY-MM-DD"),
        ({"from": "2026-02-30", "to": "2026-11-18"}, 422, "not a calendar day"),
        ({"to": "2026-11-18"}, 422, "Field required"),
    ],
)
async def test_a_bad_range_is_refused_with_a_detail(client, route, params, status, says):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    response = await client.get(f"/service-accounts/{SPA}/{route}", params=params)
    assert says in str(await detail_of(response, status))


@pytest.mark.parametrize("route", ["stats", "appointments.csv"])
async def test_an_unknown_provider_is_404(client, route):
    params = {"from": "2026-11-18", "to": "2026-11-18"}
    response = await client.get(f"/service-accounts/{SPA}/{route}", params=params)
    assert "not found" in (await detail_of(response, 404)).lower()


@pytest.mark.parametrize("route", ["stats", "appointments.csv"])
async def test_the_range_routes_need_the_admin_token_like_the_others(
    aiohttp_client, database_url, route
):
    settings = Settings(_env_file=None, database_url=database_url, admin_api_token="s3cr3t-token")
    secured = await aiohttp_client(create_app(settings))
    path = f"/service-accounts/{SPA}/{route}?from=2026-11-18&to=2026-11-18"
    assert (await secured.get(path)).status == 401
    authorised = await secured.get(path, headers={"Authorization": "Bearer s3cr3t-token"})
    assert authorised.status == 404


async def test_the_csv_export_has_a_header_and_one_masked_row_per_appointment_in_range(client):
    await _a_day_at_the_spa()
    # Nov 20 .. Dec 19, 100 a day; and 10 days just past the range that must not show.
    await _seed_anns(count=3000, start=date(2026, 11, 20), days=30)
    await _seed_anns(count=50, start=date(2026, 12, 20), days=10)
    response = await client.get(
        f"/service-accounts/{SPA}/appointments.csv",
        params={"from": "2026-11-18", "to": "2026-12-19"},
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="appointments-2026-11-18-2026-12-19.csv"'
    )
    body = await response.text()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [
        "id",
        "day",
        "status",
        "booked_at",
        "called_at",
        "closed_at",
        "customer_name",
        "customer_phone",
        "quoted_wait_minutes",
    ]
    rows = rows[1:]
    # The spa's 5 on Nov 18 and 19, and the 3000 seeded; none of Elsewhere's.
    assert len(rows) == 3005
    assert len({r[0] for r in rows}) == 3005
    assert [(r[1], int(r[0])) for r in rows] == sorted((r[1], int(r[0])) for r in rows)
    assert rows[-1][1] == "2026-12-19"
    first_day = [r for r in rows if r[1] == "2026-11-18"]
    cy = next(r for r in first_day if r[6] == "Cy Dunn")
    assert cy[2:] == [
        "completed",
        "2026-11-17T18:00:00Z",
        "2026-11-18T09:30:00Z",
        "2026-11-18T09:50:00Z",
        "Cy Dunn",
        "***0103",
        "",
    ]
    statuses = [r[2] for r in rows if r[1] >= "2026-11-20"]
    assert (statuses.count("no_show"), statuses.count("canceled")) == (300, 300)
    assert {r[7] for r in rows} <= {"***0101", "***0102", "***0103", "***0104"}
    for phone in (ANN, BOB, CY, DEE):
        assert phone[1:] not in body


async def test_the_csv_export_of_an_empty_range_is_its_header(client):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    response = await client.get(
        f"/service-accounts/{SPA}/appointments.csv",
        params={"from": DAY.isoformat(), "to": DAY.isoformat()},
    )
    assert response.status == 200
    assert (await response.text()).splitlines() == [
        "id,day,status,booked_at,called_at,closed_at,customer_name,customer_phone,"
        "quoted_wait_minutes"
    ]


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.CONSOLE])
async def test_stats_by_text_summarise_today_in_one_segment(client, channel):
    await _a_day_at_the_spa()
    reply = await handle_message(channel=channel, phone=SPA, text="stats", now=at(18))
    assert reply.text == (
        "Today: 2 served, 1 no-shows (33%), 1 canceled. Median wait 90 min, service 25 min."
    )


async def test_stats_week_covers_the_seven_days_ending_today(client):
    await _a_day_at_the_spa()
    # One a day from Nov 12 to Nov 21: Nov 13..19 is the week ending on the 19th.
    await _seed_anns(count=10, start=date(2026, 11, 12), days=10)
    week = (
        await handle_message(
            channel=Channel.SMS,
            phone=SPA,
            text="STATS this week please",
            now=at(9, 0, DAY + timedelta(days=1)),
        )
    ).text
    today = (
        await handle_message(
            channel=Channel.SMS, phone=SPA, text="stats day", now=at(9, 0, DAY + timedelta(days=1))
        )
    ).text
    # Seeded rows 1..7 (Nov 13..19): row 1 canceled, the others served in 30 after 30.
    assert week.startswith("Last 7 days: 8 served, 1 no-shows (11%), 2 canceled.")
    assert today == (
        "Today: 1 served, 0 no-shows (0%), 0 canceled. Median wait 30 min, service 30 min."
    )


async def test_stats_by_sms_answer_through_the_webhook(aiohttp_client, database_url, twilio_api):
    sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    [answer] = await replies_in(await sms.text(SPA, "STATS"))
    assert answer == "Today: 0 served, 0 no-shows (-), 0 canceled. Median wait -, service -."


async def test_stats_with_a_word_it_does_not_know_says_how_to_ask(client):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    reply = await handle_message(channel=Channel.SMS, phone=SPA, text="stats yesterday")
    assert reply.text == "Text STATS for today's figures, or STATS WEEK for the last 7 days."


async def test_a_customer_who_texts_stats_is_not_shown_a_providers_figures(client):
    await _a_day_at_the_spa()
    reply = await handle_message(channel=Channel.SMS, phone=ANN, text="stats", now=at(18))
    assert "served" not in reply.text
