"""`GET /metrics`: what an operator's Prometheus reads after real traffic, and who may read it.

Metrics are process-wide, so each test compares a scrape after its traffic with one
before it."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tortoise.transactions import in_transaction

from core.models import Channel
from core.rules.days import utcnow
from core.services import sql
from core.services.outbox.enqueue import enqueue
from core.settings import Settings
from tests.api_helpers import ANN, PROVIDER, day_after, make_provider
from tests.conftest import ON_POSTGRES
from tests.fakes.twilio_api import FakeTwilio
from tests.sms_support import deliver_outbox, sms_settings, start_sms
from tests.telegram_support import bot, telegram_api  # noqa: F401 (fixtures)
from webhooks.app import create_app

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Any, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    return parse(await response.text())


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def inbound_moved(before: Samples, after: Samples, channel: str) -> dict[str, float]:
    return {
        outcome: moved(before, after, "waitlist_inbound_messages_total", channel=channel,
                       outcome=outcome)
        for outcome in ("answered", "duplicate", "flooded", "refused_signature")
    }


REQUESTS = "waitlist_http_request_duration_seconds_count"


async def test_a_scrape_after_traffic_counts_requests_by_route_template_never_by_phone(client):
    before = await scrape(client)
    await make_provider(client)
    assert (await client.post("/users/", json={"name": "Ann", "phone": ANN})).status == 201
    assert (await client.get(f"/users/{ANN}")).status == 200
    assert (await client.get("/users/+14155550199")).status == 404
    assert (await client.get("/no/such/path/+14155550198")).status == 404

    response = await client.get("/metrics")
    text = await response.text()
    after = parse(text)

    assert moved(before, after, REQUESTS, method="GET", route="/users/{phone}", status="200") == 1
    assert moved(before, after, REQUESTS, method="GET", route="/users/{phone}", status="404") == 1
    assert moved(before, after, REQUESTS, method="POST", route="/users/", status="201") == 1
    assert moved(before, after, REQUESTS, method="GET", route="unmatched", status="404") == 1
    # The histogram's seconds add up to something, in its buckets.
    assert value(after, "waitlist_http_request_duration_seconds_sum", method="GET",
                 route="/users/{phone}", status="200") > 0
    for phone_digits in ("5550101", "5550199", "5550198", "5550179"):
        assert phone_digits not in text


async def test_queue_reads_count_cache_misses_then_hits(client):
    await make_provider(client)
    queue = f"/appointments/?service_account_phone={PROVIDER}&day={day_after(1)}"
    before = await scrape(client)

    assert (await client.get(queue)).status == 200
    assert (await client.get(queue)).status == 200

    after = await scrape(client)
    assert moved(before, after, "waitlist_queue_page_cache_misses_total") == 1
    assert moved(before, after, "waitlist_queue_page_cache_hits_total") == 1


async def test_inbound_messages_count_answered_duplicate_flooded_and_refused(
    aiohttp_client, database_url
):
    async with FakeTwilio() as api:
        sms = await start_sms(
            aiohttp_client,
            sms_settings(database_url, api.url, inbound_per_minute=1),
            api,
            engine=None,
        )
        before = await scrape(sms.client)

        assert (await sms.text(ANN, "HELP", sid="SM" + "1" * 32)).status == 200
        assert (await sms.text(ANN, "HELP", sid="SM" + "1" * 32)).status == 200  # redelivery
        assert (await sms.text(ANN, "HELP")).status == 200  # over 1 a minute
        assert (await sms.text(ANN, "HELP", token="0" * 32)).status == 403
        assert (await sms.text(ANN, "HELP", sign=False)).status == 403

        after = await scrape(sms.client)

    assert inbound_moved(before, after, "sms") == {
        "answered": 1, "duplicate": 1, "flooded": 1, "refused_signature": 2
    }


async def test_the_outbox_backlog_is_read_at_scrape_and_sends_count_with_their_lag(
    aiohttp_client, database_url
):
    async with FakeTwilio() as api:
        sms = await start_sms(aiohttp_client, sms_settings(database_url, api.url), api,
                              engine=None)
        before = await scrape(sms.client)
        assert value(before, "waitlist_outbox_pending", channel="sms") == 0
        for n in range(2):
            await enqueue(conn=sql.connection(), recipient=ANN, text=f"notice {n}",
                          idempotency_key=f"metrics-test-{n}", now=utcnow())

        waiting = await scrape(sms.client)
        assert value(waiting, "waitlist_outbox_pending", channel="sms") == 2
        assert value(waiting, "waitlist_outbox_oldest_pending_age_seconds", channel="sms") >= 0
        assert value(waiting, "waitlist_outbox_pending", channel="telegram") == 0

        await deliver_outbox(sms)
        after = await scrape(sms.client)

    assert len(api.messages) == 2
    assert value(after, "waitlist_outbox_pending", channel="sms") == 0
    assert moved(before, after, "waitlist_outbox_sent_total", channel="sms") == 2
    assert moved(before, after, "waitlist_outbox_failed_total", channel="sms") == 0
    assert moved(before, after, "waitlist_outbox_dispatch_lag_seconds_count",
                 channel=Channel.SMS.value) == 2


# --- who may scrape ---------------------------------------------------------------


def _settings(database_url: str, **values: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **values)  # type: ignore[call-arg]


async def test_metrics_are_open_without_a_token_while_the_server_listens_on_loopback_alone(
    aiohttp_client, database_url
):
    client = await aiohttp_client(create_app(_settings(database_url, host="127.0.0.1")))

    assert (await client.get("/metrics")).status == 200


async def test_a_server_listening_beyond_loopback_refuses_metrics_without_a_token_even_to_loopback(
    aiohttp_client, database_url
):
    # The test client connects from 127.0.0.1, as a proxy on the same host would.
    client = await aiohttp_client(
        create_app(_settings(database_url, host="0.0.0.0", admin_api_token="admin-" + "a" * 20))  # noqa: S104
    )

    response = await client.get("/metrics")

    assert response.status == 403
    assert "METRICS_TOKEN" in (await response.json())["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])  # noqa: S104
async def test_with_a_metrics_token_only_its_bearer_may_scrape(aiohttp_client, database_url, host):
    token = "metrics-" + "m" * 24
    client = await aiohttp_client(
        create_app(_settings(database_url, host=host, metrics_token=token,
                             admin_api_token="admin-" + "a" * 20))
    )

    missing = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    admin = await client.get("/metrics", headers={"Authorization": "Bearer admin-" + "a" * 20})
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    for refused in (missing, wrong, admin):
        assert refused.status == 401
        assert (await refused.json())["detail"] == "Not authenticated"
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert right.status == 200
    assert "waitlist_http_request_duration_seconds" in await right.text()


async def test_metrics_are_in_the_openapi_document(client):
    spec = await (await client.get("/openapi.json")).json()

    operation = spec["paths"]["/metrics"]["get"]
    assert {"200", "401", "403"} <= set(operation["responses"])


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has no pool")
async def test_the_pool_gauge_shows_a_borrowed_connection_while_it_is_held(
    aiohttp_client, database_url
):
    # No background work that would borrow a connection of its own meanwhile.
    quiet = _settings(database_url, outbox_dispatcher=False, grace_poll_interval=60,
                      line_poll_interval=60)
    client = await aiohttp_client(create_app(quiet))
    async with in_transaction("default"):
        held = await scrape(client)
    released = await scrape(client)

    assert value(held, "waitlist_db_pool_connections_in_use", pool="default") == 1
    assert value(released, "waitlist_db_pool_connections_in_use", pool="default") == 0
    assert value(released, "waitlist_db_pool_connections_in_use", pool="deliveries") == 0


async def test_telegram_messages_count_answered_and_a_wrong_secret_as_refused(bot):
    before = await scrape(bot.client)
    ann = bot.user(ANN)

    # A chat linked to its phone reaches the inbound path; its first text before that
    # only asks for the phone.
    assert (await ann.shares_contact()).status == 200
    assert (await ann.says("HELP")).status == 200
    assert (await bot.deliver({"message": {}}, secret="wrong")).status == 403

    after = await scrape(bot.client)

    assert inbound_moved(before, after, "telegram") == {
        "answered": 2, "duplicate": 0, "flooded": 0, "refused_signature": 1
    }
