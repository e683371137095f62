"""Signed Twilio inbound-SMS deliveries, precomputed for sms.lua.

Twilio signs a webhook with HMAC-SHA1 over the URL it called plus the sorted form
parameters. Computing that in Lua is possible but slow and easy to get subtly
wrong, so Python signs every delivery with twilio's own RequestValidator and wrk
only replays lines. Each delivery has a fresh MessageSid: the server records
deliveries it has seen and answers a redelivery without doing the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

SMS_PATH = "/webhooks/twilio/sms"


def delivery(
    index: int, *, from_phone: str, to_phone: str, body: str, account_sid: str
) -> dict[str, str]:
    sid = f"SM{index:032x}"
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "US",
        "To": to_phone,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_phone,
        "ApiVersion": "2010-04-01",
    }


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, params))


def write(
    path: Path,
    *,
    count: int,
    first_sid: int,
    customers: list[str],
    to_phone: str,
    body: str,
    auth_token: str,
    account_sid: str,
    public_base_url: str,
    bodies: Sequence[str] = (),
) -> None:
    """`count` lines "<signature>\\t<form body>", customers taken in turn; each line's
    text is `body`, or the next of `bodies` when given."""
    validator = RequestValidator(auth_token)
    url = public_base_url.rstrip("/") + SMS_PATH
    with path.open("w") as out:
        for n in range(count):
            params = delivery(
                first_sid + n,
                from_phone=customers[n % len(customers)],
                to_phone=to_phone,
                body=bodies[n % len(bodies)] if bodies else body,
                account_sid=account_sid,
            )
            signature = validator.compute_signature(url, params)
            out.write(f"{signature}\t{urlencode(params)}\n")
