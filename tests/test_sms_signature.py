"""POST /webhooks/twilio/sms and /status: only what Twilio signed gets in."""

from __future__ import annotations

import pytest

from core.models import Contact, InboundMessage
from tests.fakes.twilio_api import inbound_form, signature
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    OUR_NUMBER,
    PUBLIC,
    replies_in,
    sms_fixture,
    sms_settings,
    twilio_api_fixture,
)
from webhooks.app import create_app
from webhooks.state import INBOX

PATH = "/webhooks/twilio/sms"


async def nothing_happened(sms) -> None:
    assert sms.engine.calls == []
    assert await InboundMessage.all().count() == 0
    assert await Contact.all().count() == 0


async def test_a_correctly_signed_message_is_answered_with_twiml_and_recorded(sms):
    response = await sms.text(ANN, "join", sid="SM" + "a" * 32)

    assert await replies_in(response) == ["Got it."]
    assert [call["text"] for call in sms.engine.calls] == ["join"]
    await sms.client.app[INBOX].replies.write()
    row = await InboundMessage.get(external_id="SM" + "a" * 32)
    assert (row.channel, row.phone, row.reply) == ("sms", ANN, "Got it.")


async def test_a_message_without_a_signature_is_refused_and_nothing_is_processed(sms):
    response = await sms.text(ANN, "join", sign=False)

    assert response.status == 403
    await nothing_happened(sms)


async def test_a_message_signed_with_another_token_is_refused(sms):
    response = await sms.text(ANN, "join", token="some-other-accounts-token")

    assert response.status == 403
    await nothing_happened(sms)


@pytest.mark.parametrize("field", ["Body", "From", "MessageSid", "To"])
async def test_a_message_changed_after_signing_is_refused(sms, field):
    signed = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")
    tampered = {**signed, field: signed[field] + "1"}
    response = await sms.twilio.post(PATH, signed, data=tampered)

    assert response.status == 403
    await nothing_happened(sms)


async def test_an_added_field_breaks_the_signature(sms):
    signed = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")
    response = await sms.twilio.post(PATH, signed, data={**signed, "Extra": "1"})

    assert response.status == 403
    await nothing_happened(sms)


async def test_behind_a_proxy_the_public_url_is_checked_not_the_internal_one(sms):
    # The proxy forwards to an internal host and port; Twilio signed the public address.
    form = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")
    internal = {"Host": "10.0.3.7:8080", "X-Forwarded-Proto": "http"}

    signed_for_public = await sms.twilio.post(PATH, form, headers=internal)
    signed_for_internal = await sms.twilio.post(
        PATH,
        {**form, "MessageSid": "SM2"},
        signed_url=f"http://10.0.3.7:8080{PATH}",
        headers=internal,
    )

    assert await replies_in(signed_for_public) == ["Got it."]
    assert signed_for_internal.status == 403
    assert await InboundMessage.all().count() == 1


async def test_a_signature_over_the_address_with_its_default_port_is_accepted_too(sms):
    """Twilio has signed https addresses with and without :443; both are its own."""
    form = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")
    with_port = PUBLIC.replace(".com", ".com:443")

    response = await sms.twilio.post(PATH, form, signed_url=f"{with_port}{PATH}")
    elsewhere = await sms.twilio.post(
        PATH, {**form, "MessageSid": "SM2"}, signed_url=f"{PUBLIC.replace('.com', '.com:8443')}{PATH}"
    )

    assert await replies_in(response) == ["Got it."]
    assert elsewhere.status == 403


@pytest.mark.parametrize("algorithm", ["HMAC_SHA512", "md5"])
async def test_an_unknown_signature_algorithm_is_refused(sms, algorithm):
    form = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")
    settings = f"key=webhooks_sharedkey_1,algorithm={algorithm}"

    response = await sms.twilio.post(
        PATH, form, headers={"X-Twilio-Webhooks-Signature-Settings": settings}
    )

    assert response.status == 403
    await nothing_happened(sms)


async def test_the_query_string_is_checked_byte_for_byte_as_twilio_called_it(sms):
    path_qs = f"{PATH}?site=main%2Fwest&tag=a+b"
    form = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="status")

    accepted = await sms.twilio.post(path_qs, form)
    # The same query decoded and re-encoded differently is not what Twilio signed.
    decoded = f"{PUBLIC}{PATH}?site=main/west&tag=a%20b"
    re_encoded = await sms.twilio.post(path_qs, {**form, "MessageSid": "SM2"}, signed_url=decoded)

    assert accepted.status == 200
    assert re_encoded.status == 403


async def test_a_signed_request_that_is_not_a_form_is_refused_with_415(sms):
    body = b'{"Body": "join"}'
    response = await sms.client.post(
        PATH,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Signature": signature(f"{PUBLIC}{PATH}", {}),
        },
    )

    assert response.status == 415
    await nothing_happened(sms)


async def test_a_signed_form_without_message_sid_or_a_phone_sender_is_a_400(sms):
    no_sid = inbound_form(sid="", sender=ANN, to=OUR_NUMBER, body="join")
    short_code = inbound_form(sid="SM1", sender="22395", to=OUR_NUMBER, body="join")

    assert (await sms.twilio.post(PATH, no_sid)).status == 400
    assert (await sms.twilio.post(PATH, short_code)).status == 400
    await nothing_happened(sms)


async def test_the_status_callback_is_refused_without_a_valid_signature(sms):
    params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"}
    unsigned = await sms.twilio.post("/webhooks/twilio/status?key=k", params, sign=False)
    wrong = await sms.twilio.post("/webhooks/twilio/status?key=k", params, token="nope-nope")

    assert unsigned.status == 403
    assert wrong.status == 403
    assert await Contact.all().count() == 0


async def test_a_get_is_405_not_a_500(sms):
    assert (await sms.client.get(PATH)).status == 405


async def test_without_an_auth_token_the_routes_are_404_and_start_up_says_why(
    aiohttp_client, database_url, twilio_api, caplog
):
    caplog.set_level("INFO")
    settings = sms_settings(database_url, twilio_api.url, twilio_auth_token=None)
    client = await aiohttp_client(create_app(settings))
    form = inbound_form(sid="SM1", sender=ANN, to=OUR_NUMBER, body="join")

    inbound = await client.post(PATH, data=form, headers={"X-Twilio-Signature": "x"})
    status = await client.post("/webhooks/twilio/status", data={"MessageSid": "SM1"})

    assert inbound.status == 404
    assert status.status == 404
    assert "SMS channel off: TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert await InboundMessage.all().count() == 0
