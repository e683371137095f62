"""Who may use a provider's console: sign-in codes sent to a phone, sessions, staff.

Codes and session ids are stored hashed (a stolen table opens nothing). A code goes
to the phone like any notice (the outbox, on the phone's usual channel). A stranger's
phone gets a code row too, never sent: the rate limit and every answer are the same
whether or not a phone may sign in, so the form tells no one who our providers are.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.transactions import in_transaction

from core.models import ConsoleSession, ServiceAccount, SignInCode, StaffPhone
from core.rules import console_access as rules
from core.services.outbox.enqueue import enqueue


class CodeRequest(StrEnum):
    # Said for a stranger as for a provider: "if this phone may sign in, a code is on its way".
    ACCEPTED = "accepted"
    TOO_MANY = "too_many"


class CodeCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    # No live code: expired, used, tried MAX_TRIES times, or never asked for.
    NEED_NEW = "need_new"


@dataclass(frozen=True, slots=True)
class Checked:
    outcome: CodeCheck
    account: ServiceAccount | None = None


def _hash_code(phone: str, code: str, salt: str) -> str:
    return f"{salt}${hashlib.sha256(f'{salt}:{phone}:{code}'.encode()).hexdigest()}"


def _code_matches(stored: str, phone: str, code: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored, _hash_code(phone, code, salt))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def account_for_phone(*, phone: str) -> ServiceAccount | None:
    """The provider `phone` belongs to: its own phone, or one of its staff phones."""
    account = await ServiceAccount.get_or_none(phone=phone)
    if account is not None:
        return account
    staff = await StaffPhone.get_or_none(phone=phone).select_related("service_account")
    return staff.service_account if staff is not None else None


async def request_code(*, phone: str, now: datetime) -> CodeRequest:
    """Make a code for `phone` and, when the phone may sign in, send it."""
    async with in_transaction("default") as conn:
        recent = (
            await SignInCode.filter(phone=phone, created_at__gt=now - rules.CODE_WINDOW)
            .using_db(conn)
            .count()
        )
        if recent >= rules.CODES_PER_WINDOW:
            return CodeRequest.TOO_MANY
        code = f"{secrets.randbelow(10**rules.CODE_DIGITS):0{rules.CODE_DIGITS}d}"
        row = await SignInCode.create(
            phone=phone,
            code_hash=_hash_code(phone, code, secrets.token_hex(8)),
            created_at=now,
            expires_at=now + rules.CODE_TTL,
            using_db=conn,
        )
        if await account_for_phone(phone=phone) is not None:
            await enqueue(
                conn=conn,
                recipient=phone,
                text=rules.code_text(code),
                idempotency_key=f"console-code:{row.id}",
                now=now,
            )
    return CodeRequest.ACCEPTED


async def check_code(*, phone: str, code: str, now: datetime) -> Checked:
    """Try `code` against the phone's latest live code; a right one is used up."""
    latest = (
        await SignInCode.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or latest.tries >= rules.MAX_TRIES:
        return Checked(CodeCheck.NEED_NEW)
    if not _code_matches(latest.code_hash, phone, code):
        # Conditional, so racing guesses cannot exceed MAX_TRIES between them.
        counted = await SignInCode.filter(id=latest.id, tries__lt=rules.MAX_TRIES).update(
            tries=latest.tries + 1
        )
        if not counted or latest.tries + 1 >= rules.MAX_TRIES:
            return Checked(CodeCheck.NEED_NEW)
        return Checked(CodeCheck.WRONG)
    used = await SignInCode.filter(id=latest.id, used_at__isnull=True).update(used_at=now)
    account = await account_for_phone(phone=phone)
    if not used or account is None:
        return Checked(CodeCheck.NEED_NEW)
    return Checked(CodeCheck.OK, account)


def admin_token_matches(*, given: str, expected: str | None) -> bool:
    """Whether `given` is the admin token, compared in constant time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def open_session(*, account_id: int, now: datetime) -> str:
    """A new session of the provider's console; the id for the cookie (kept hashed)."""
    token = secrets.token_urlsafe(rules.SESSION_BYTES)
    await ConsoleSession.create(
        token_hash=_hash_token(token),
        service_account_id=account_id,
        created_at=now,
        expires_at=now + rules.SESSION_TTL,
    )
    return token


async def session_account(*, token: str, now: datetime) -> ServiceAccount | None:
    """The provider a live session belongs to; None for an ended, expired or unknown id."""
    if not token:
        return None
    session = (
        await ConsoleSession.filter(
            token_hash=_hash_token(token), ended_at__isnull=True, expires_at__gt=now
        )
        .select_related("service_account")
        .first()
    )
    return session.service_account if session is not None else None


async def end_session(*, token: str, now: datetime) -> None:
    await ConsoleSession.filter(token_hash=_hash_token(token), ended_at__isnull=True).update(
        ended_at=now
    )


async def end_all_sessions(*, account_id: int, now: datetime) -> int:
    """End every live session of the provider ("Sign out everywhere"); how many."""
    return await ConsoleSession.filter(service_account_id=account_id, ended_at__isnull=True).update(
        ended_at=now
    )
