"""Random days of NEXT, DONE, NOSHOW, customers leaving, the clock moving and UNDO, on a
real database, against a model in plain Python: after every step the appointments'
status and timestamps and the running scores are exactly the model's, and UNDO answers
what the model says it should (undone, nothing to undo, already undone, too late,
changed since)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.models import Appointment, ReliabilityScore, Status
from core.rules import penalty as penalty_rules
from core.rules.undo import WINDOW, Action, Outcome
from core.services import booking, calling, service_accounts, status_changes, undo, users

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
HALF_LIFE = 30.0
CUSTOMERS = 4
_worlds = itertools.count(1)


@dataclass(frozen=True)
class Spot:
    status: Status = Status.ACTIVE
    status_changed_at: datetime | None = None
    called_at: datetime | None = None


Score = tuple[float, float, datetime] | None


@dataclass
class Last:
    """The model's last provider action: what it changed, before and after."""

    action: Action
    at: datetime
    who: int
    spot_before: Spot
    spot_after: Spot
    score_before: Score
    score_after: Score
    undone: bool = False


class Model:
    def __init__(self, scores: list[Score]) -> None:
        self.spots = [Spot() for _ in range(CUSTOMERS)]
        self.scores = scores
        self.last: Last | None = None

    def _event(self, who: int, event: penalty_rules.Event, now: datetime) -> None:
        old = self.scores[who]
        base = None if old is None else penalty_rules.Score(*old)
        new = penalty_rules.record_event(base, event, at=now, half_life_days=HALF_LIFE)
        self.scores[who] = (new.cancellations, new.no_shows, new.as_of)

    def _act(self, action: Action, who: int, spot: Spot, now: datetime, event=None) -> None:
        before, score_before = self.spots[who], self.scores[who]
        self.spots[who] = spot
        if event is not None:
            self._event(who, event, now)
        self.last = Last(action, now, who, before, spot, score_before, self.scores[who])

    def next(self, now: datetime) -> None:
        waiting = [i for i, s in enumerate(self.spots) if s.status is Status.ACTIVE and not s.called_at]
        if waiting:
            who = waiting[0]
            self._act(Action.NEXT, who, replace(self.spots[who], called_at=now), now)

    def close(self, action: Action, now: datetime) -> None:
        serving = [
            i for i, s in enumerate(self.spots) if s.status is Status.ACTIVE and s.called_at
        ]
        if not serving:
            return
        who = min(serving, key=lambda i: (self.spots[i].called_at, i))
        to = Status.COMPLETED if action is Action.DONE else Status.NO_SHOW
        spot = replace(self.spots[who], status=to, status_changed_at=now)
        event = penalty_rules.Event.NO_SHOW if action is Action.NOSHOW else None
        self._act(action, who, spot, now, event)

    def leave(self, who: int, now: datetime) -> None:
        if self.spots[who].status is Status.ACTIVE:
            spot = replace(self.spots[who], status=Status.CANCELED, status_changed_at=now)
            self.spots[who] = spot
            self._event(who, penalty_rules.Event.CANCELED, now)

    def undo(self, now: datetime) -> Outcome:
        last = self.last
        if last is None:
            return Outcome.NOTHING
        if last.undone:
            return Outcome.ALREADY_UNDONE
        if now - last.at > WINDOW:
            return Outcome.EXPIRED
        if self.spots[last.who] != last.spot_after or self.scores[last.who] != last.score_after:
            return Outcome.CHANGED_SINCE
        self.spots[last.who] = last.spot_before
        self.scores[last.who] = last.score_before
        last.undone = True
        return Outcome.UNDONE


STEPS = st.lists(
    st.sampled_from(
        ["next", "next", "next", "done", "noshow", "noshow", "undo", "undo", "undo"]
        + [("leave", who) for who in range(CUSTOMERS)]
        + [("wait", minutes) for minutes in (2, 6, 11)]
    ),
    min_size=6,
    max_size=30,
)
# Some customers come with older cancellations and no-shows, days old, so an undo has a
# decayed score to give back.
PRIOR_SCORES = st.lists(
    st.one_of(
        st.just(None),
        st.tuples(
            st.sampled_from([0.0, 1.0, 0.37]),
            st.sampled_from([0.0, 1.0, 2.5]),
            st.integers(1, 60).map(lambda days: NOW - timedelta(days=days)),
        ),
    ),
    min_size=CUSTOMERS,
    max_size=CUSTOMERS,
)


async def _world(prior: list[Score]) -> tuple[str, list[int], list[int]]:
    """A fresh provider and customers (the database is shared between examples)."""
    n = next(_worlds)
    phone = f"+1650{200 + n:03d}9999"
    account = await service_accounts.create_service_account(
        phone=phone, name="Prop Spa", penalty_half_life_days=HALF_LIFE
    )
    people = []
    for i in range(CUSTOMERS):
        user = await users.create_user(name=f"P{i}", phone=f"+1415{200 + n:03d}{i:04d}")
        await booking.join_line(user_phone=user.phone, account=account, day=NOW.date(), now=NOW)
        people.append(user.id)
        # Written after joining, so every spot keeps the booking order.
        if prior[i] is not None:
            c, ns, as_of = prior[i]
            await ReliabilityScore.create(
                user_id=user.id, service_account_id=account.id,
                cancellations=c, no_shows=ns, as_of=as_of,
            )
    rows = await Appointment.filter(service_account_id=account.id).order_by("id")
    appointments = [row.id for row in rows]
    return phone, appointments, people


async def _actual(appointments: list[int], people: list[int], phone: str) -> tuple[list, list]:
    account = await service_accounts.get_service_account(phone=phone)
    spots = []
    for appointment_id in appointments:
        row = await Appointment.get(id=appointment_id)
        spots.append(Spot(row.status, row.status_changed_at, row.called_at))
    scores: list[Score] = []
    for user_id in people:
        score = await ReliabilityScore.filter(
            user_id=user_id, service_account_id=account.id
        ).first()
        scores.append(None if score is None else (score.cancellations, score.no_shows, score.as_of))
    return spots, scores


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, prior=PRIOR_SCORES)
# A no-show undone over a decayed score, and the undo of a call whose customer left.
@example(
    steps=["next", "noshow", "undo", "next", "next", ("leave", 1), "undo", "undo"],
    prior=[(1.0, 2.5, NOW - timedelta(days=9)), None, None, None],
)
async def test_undo_puts_back_exactly_what_the_last_action_changed(orm, steps, prior):
    phone, appointments, people = await _world(prior)
    model = Model(list(prior))
    now = NOW
    for number, step in enumerate(steps, start=1):
        now += timedelta(seconds=1)
        if step == "next":
            model.next(now)
            await calling.call_next(service_account_phone=phone, now=now)
        elif step in ("done", "noshow"):
            action = Action.DONE if step == "done" else Action.NOSHOW
            model.close(action, now)
            target = await calling.closable(service_account_phone=phone, now=now)
            if target is not None:
                change = status_changes.complete if step == "done" else status_changes.mark_no_show
                await change(appointment_id=target.id, now=now, undo_as=action)
        elif step == "undo":
            expected = model.undo(now)
            got = await undo.undo_last(service_account_phone=phone, now=now)
            assert got.outcome is expected, f"step {number}: {steps}"
        elif step[0] == "leave":
            who = step[1]
            model.leave(who, now)
            if (await Appointment.get(id=appointments[who])).status is Status.ACTIVE:
                await status_changes.cancel(appointment_id=appointments[who], now=now)
        else:
            now += timedelta(minutes=step[1])
        spots, scores = await _actual(appointments, people, phone)
        assert spots == model.spots, f"step {number}: {steps}"
        assert scores == model.scores, f"step {number}: {steps}"
