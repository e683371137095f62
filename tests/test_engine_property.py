"""Whatever anyone texts, the engine answers, and touches only what it may."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import replies
from bot.engine import handle_message
from core.models import Appointment, Channel, Conversation, ServiceAccount, User
from core.rules.gsm import fits_one_segment
from core.services import service_accounts, users

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
SENDER, BYSTANDER = "+14155550101", "+14155550102"
SPA, GDN = "+14155550100", "+14155550200"

# Text people might send: words the engine knows, numbers, days and phones mixed
# with anything at all, unicode included.
_WORDS = st.sampled_from(
    [
        "join", "JOIN", "book", "status", "?", "leave", "cancel", "help", "stop", "start",
        "queue", "next", "done", "noshow", "add", "spa", "SPA", "gdn", "zen", "garden",
        "today", "tomorrow", "fri", "next friday", "24/12", "31/02", "2026-11-01",
        "2099-01-01", "1", "2", "#1", "#99", "+14155550100", "+14155550199", "please",
        "I can't make it", "where am I", "Ann", "my name is", "%", "_", "'", "\\",
        "🙂", "’", "\x00", "\n",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=8).map(" ".join),
)


async def _world() -> None:
    if await ServiceAccount.exists():
        return
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await service_accounts.create_service_account(phone=GDN, name="Zen Garden", code="GDN")
    await users.create_user(name="Sam Sender", phone=SENDER)
    await users.create_user(name="Bea Bystander", phone=BYSTANDER)
    await handle_message(channel=Channel.SMS, phone=BYSTANDER, text="join spa", now=NOW)


# Derived from the provider's history (core.services.waits): a join or the provider's
# own DONE may recompute them; nothing a text asks for is stored there.
_LEARNED = frozenset({"wait_profile", "wait_profile_day"})


async def _accounts() -> list[dict]:
    """Every provider row but its learned columns."""
    rows = await ServiceAccount.all().order_by("id").values()
    return [{k: v for k, v in row.items() if k not in _LEARNED} for row in rows]


async def _rows() -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    def of(phone: str):
        return Appointment.filter(user__phone=phone).order_by("id").values()

    return (
        await of(BYSTANDER),
        await _accounts(),
        await User.all().order_by("id").values(),
        await of(SENDER),
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(TEXTS, min_size=1, max_size=4), channel=st.sampled_from(list(Channel)))
async def test_a_customer_texting_anything_gets_a_short_reply_and_changes_only_their_own_line(
    orm, texts, channel
):
    await _world()
    bystander, accounts, people, _ = await _rows()
    for text in texts:
        reply = (await handle_message(channel=channel, phone=SENDER, text=text, now=NOW)).text
        assert isinstance(reply, str)
        assert reply.strip()
        assert fits_one_segment(reply), reply
        # The apology is the engine's last resort for a bug or an outage: none here.
        assert reply != replies.sorry(), text
    after_bystander, after_accounts, after_people, mine = await _rows()
    assert after_bystander == bystander
    assert after_accounts == accounts
    assert after_people == people
    active_days = [a["day"] for a in mine if a["status"] == "active"]
    assert len(active_days) == len(set(active_days))
    # A customer can book and cancel, never complete or no-show themselves.
    assert {a["status"] for a in mine} <= {"active", "canceled"}
    assert all(a["called_at"] is None for a in mine)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS)
@example(text="closed")  # the provider's own row changes; no other does
async def test_a_provider_texting_anything_gets_a_reply_and_never_touches_another_provider(
    orm, text
):
    await _world()
    other = await Appointment.filter(service_account__phone=GDN).order_by("id").values()
    # Its own row is its to change (CLOSE, DELAY, what DONE teaches): the other's is not.
    others = ServiceAccount.exclude(phone=SPA).order_by("id")
    accounts = await others.values()
    reply = (await handle_message(channel=Channel.SMS, phone=SPA, text=text, now=NOW)).text
    assert reply.strip()
    assert fits_one_segment(reply), reply
    assert reply != replies.sorry(), text
    assert await Appointment.filter(service_account__phone=GDN).order_by("id").values() == other
    assert await others.values() == accounts


NEWCOMER = "+14155550177"


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(TEXTS, min_size=1, max_size=3))
@example(texts=["\x00"])  # PostgreSQL refuses NUL in text
@example(texts=["join spa", "\ud800"])
async def test_a_stranger_texting_anything_is_answered_and_registers_only_themselves(orm, texts):
    await _world()
    # Start each example as a stranger again.
    await User.filter(phone=NEWCOMER).delete()
    await Conversation.filter(phone=NEWCOMER).delete()
    bystander, accounts, people, _ = await _rows()
    for text in texts:
        reply = (await handle_message(channel=Channel.SMS, phone=NEWCOMER, text=text, now=NOW)).text
        assert reply.strip()
        assert fits_one_segment(reply), reply
        assert reply != replies.sorry(), text
    after_bystander, after_accounts, after_people, _ = await _rows()
    assert after_bystander == bystander
    assert after_accounts == accounts
    assert [p for p in after_people if p["phone"] != NEWCOMER] == people
