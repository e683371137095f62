"""The line and its history: users, providers, appointments, running scores, line
versions, undo snapshots and grace timers (Tortoise ORM; core.models re-exports them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Status(StrEnum):
    ACTIVE = "active"
    CANCELED = "canceled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class User(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=20, unique=True)
    email = fields.CharField(max_length=320, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class ServiceAccount(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=20, unique=True)
    email = fields.CharField(max_length=320, null=True)
    description = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    enable_cancellation_scoring = fields.BooleanField(default=True)
    cancellation_weight = fields.FloatField(default=1.0)
    no_show_weight = fields.FloatField(default=2.0)
    timezone = fields.CharField(max_length=64, default="UTC")
    penalty_half_life_days = fields.FloatField(default=30.0)
    # Short name customers text to pick this provider (e.g. SPA); stored upper-case.
    code = fields.CharField(max_length=16, null=True, unique=True)
    # ISO 3166 alpha-2 region for numbers typed without a country code (ADD 415-555-0151)
    # and for the order of numeric dates (03/04); set at creation, from the time zone
    # where that names one country, else DEFAULT_PHONE_REGION.
    country = fields.CharField(max_length=2, null=True)
    # How many days ahead customers may book (the API answers 422 past it).
    booking_horizon_days = fields.IntField(default=90, db_default=90)
    # Capacity (core.rules.capacity): people waiting at once and bookings per day
    # (null: no limit), and people served at once, which divides the estimated wait.
    max_waiting = fields.IntField(null=True)
    daily_limit = fields.IntField(null=True)
    chairs = fields.IntField(default=1, db_default=1)
    # The provider's local day it stopped taking joins by hand (CLOSE); OPEN clears it.
    # A day, not a flag, so a CLOSE ends with the day and booking reads it for free.
    closed_on = fields.DateField(null=True)
    # Weekly opening hours in `timezone` ({"mon": [["09:00", "12:00"], ...]}; a missing
    # day is closed) and holidays (ISO dates); NULL hours: always open
    # (core.rules.hours reads them).
    hours: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    closed_dates: fields.Field[list[str] | None] = fields.JSONField(null=True)
    # DELAY n: minutes the provider runs behind on `delay_day` (its local day), added to
    # the waits customers are quoted that day; another day ignores it.
    delay_minutes = fields.IntField(null=True)
    delay_day = fields.DateField(null=True)
    # Minutes a called customer has to confirm (HERE) before the spot expires
    # (core.rules.grace); 0: no grace timers. `auto_call_next`: an automatic no-show
    # calls the next person too.
    grace_minutes = fields.FloatField(default=15.0, db_default=15.0)
    auto_call_next = fields.BooleanField(default=False, db_default=False)
    # Learned waits (core.rules.service_times): the profile of measured service times
    # over the last WINDOW_DAYS, and the provider's local day it was computed on. NULL:
    # no completed service yet, so waits come from booked durations.
    wait_profile: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    wait_profile_day = fields.DateField(null=True)
    # The lobby board (/board/<code>): open to anyone with the link unless
    # `board_public` is off, then it needs a console session or the board key, stored
    # as its SHA-256 (the key is shown once, when the admin API rotates it).
    # `board_names`: "name" shows "Ann L.", "ticket" each spot's ticket number instead.
    board_public = fields.BooleanField(default=True, db_default=True)
    board_names = fields.CharField(max_length=8, default="name", db_default="name")
    board_key_hash = fields.CharField(max_length=64, null=True)
    # The language of its own replies and of its customers who have not written yet
    # (a walk-in added by ADD): a catalog's code (core.locales).
    language = fields.CharField(max_length=8, default="en", db_default="en")
    # Not a column: the phones of its `staff` rows (core.models.console.StaffPhone), set
    # by core.services.staff where the admin API shows them.
    staff_phones: list[str]

    class Meta:
        table = "service_accounts"


class Appointment(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="appointments", on_delete=fields.CASCADE
    )
    service_account: fields.ForeignKeyRelation[ServiceAccount] = fields.ForeignKeyField(
        "models.ServiceAccount", related_name="appointments", on_delete=fields.CASCADE
    )
    appointment_date = fields.DatetimeField()
    # The local date in the provider's time zone, stored so the queue and the
    # one-per-day rule are plain index lookups.
    day = fields.DateField()
    duration_minutes = fields.IntField(default=30)
    notes = fields.TextField(null=True)
    status = fields.CharEnumField(Status, max_length=16, default=Status.ACTIVE)
    penalty = fields.FloatField(default=0.0)
    created_at = fields.DatetimeField(auto_now_add=True)
    status_changed_at = fields.DatetimeField(null=True)
    # Set when the provider calls this person (NEXT); DONE / NOSHOW without a number act on it.
    called_at = fields.DatetimeField(null=True)
    # Set once when the called customer texts HERE (or ON MY WAY); the provider's QUEUE
    # marks them.
    confirmed_at = fields.DatetimeField(null=True)
    # The spot's sort key in its line (core.services.line_order defines the order):
    # booking sets it to the penalty and the booking time, and a move sets it without
    # touching the penalty. Never NULL once written: the database fills a missing one (0011).
    rank_penalty = fields.FloatField(null=True)
    rank_at = fields.DatetimeField(null=True)
    # How many times the customer texted LATE and was moved back (at most
    # core.rules.lateness.MAX_LATE_MOVES a spot).
    late_moves = fields.IntField(default=0, db_default=0)
    # How far away the customer said they are (AWAY): they hear "time to head over"
    # when their wait falls to it (core.rules.lateness.head_over_due).
    travel_minutes = fields.IntField(null=True)
    # When that "time to head over" notice was written: once per spot.
    head_over_at = fields.DatetimeField(null=True)
    # The wait (minutes, the middle of any range) the customer was told when joining by
    # chat; NULL when nothing was quoted (an API booking). STATS' estimate error.
    quoted_wait_minutes = fields.IntField(null=True)
    # The short number a board shows instead of the name (board_names "ticket"): given
    # at joining, unique per provider and day (a partial unique index, 0021); NULL for
    # providers that show names, so their bookings pay nothing for it.
    ticket = fields.IntField(null=True)

    user_id: int
    service_account_id: int

    class Meta:
        table = "appointments"


# Running decayed counts per (user, service account), as core.rules.penalty defines them.
class ReliabilityScore(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="scores", on_delete=fields.CASCADE
    )
    service_account: fields.ForeignKeyRelation[ServiceAccount] = fields.ForeignKeyField(
        "models.ServiceAccount", related_name="scores", on_delete=fields.CASCADE
    )
    cancellations = fields.FloatField(default=0.0)
    no_shows = fields.FloatField(default=0.0)
    as_of = fields.DatetimeField()

    user_id: int
    service_account_id: int

    class Meta:
        table = "reliability_scores"
        unique_together = (("user", "service_account"),)


class LineVersion(Model):
    """How many times a provider's line for one day has changed, for caching its pages.

    Written only by database triggers (migration 0008): every insert, update and delete
    of an appointment, and every phone change of a user waiting in the line, adds 1 to
    one of the line's slots in the same transaction. The line's version is the sum over
    its slots; it only grows, so any server process can tell from one small read whether
    a page it rendered earlier is still current (core.services.line_pages). PostgreSQL
    spreads the increments over 16 slots so that concurrent bookings for one line do not
    queue on a single row lock until they commit. No foreign key to the service account:
    cascaded deletes of appointments bump the line, and nothing here may stop them.
    """

    id = fields.BigIntField(primary_key=True)
    service_account_id = fields.IntField()
    day = fields.DateField()
    slot = fields.SmallIntField()
    n = fields.BigIntField()

    class Meta:
        table = "line_versions"
        unique_together = (("service_account_id", "day", "slot"),)


class UndoSnapshot(Model):
    """What one provider action changed, as it was just before, so UNDO can put it back.

    Written in the action's transaction (core.services.undo); the values are copied, not
    recomputed, so an undo restores the running score exactly instead of subtracting
    after decay. `score_touched` says whether the action folded an event into the
    (user, provider) score; `prior_as_of` is null when no score row existed before it,
    and the `after_` values are what the action wrote, to tell whether anything else
    changed the score since.
    """

    id = fields.IntField(primary_key=True)
    service_account: fields.ForeignKeyRelation[ServiceAccount] = fields.ForeignKeyField(
        "models.ServiceAccount", related_name="undo_snapshots", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=16)
    appointment: fields.ForeignKeyRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="undo_snapshots", on_delete=fields.CASCADE
    )
    prior_status = fields.CharEnumField(Status, max_length=16)
    prior_status_changed_at = fields.DatetimeField(null=True)
    prior_called_at = fields.DatetimeField(null=True)
    prior_confirmed_at = fields.DatetimeField(null=True)
    score_touched = fields.BooleanField(default=False)
    prior_cancellations = fields.FloatField(null=True)
    prior_no_shows = fields.FloatField(null=True)
    prior_as_of = fields.DatetimeField(null=True)
    after_cancellations = fields.FloatField(null=True)
    after_no_shows = fields.FloatField(null=True)
    after_as_of = fields.DatetimeField(null=True)
    taken_at = fields.DatetimeField()
    undone_at = fields.DatetimeField(null=True)

    service_account_id: int
    appointment_id: int

    class Meta:
        table = "undo_snapshots"
        # UNDO reads a provider's latest snapshot; pruning finds those past the window.
        indexes = (("service_account_id", "id"), ("taken_at",))


class GraceTimer(Model):
    """A due time of one call's grace period (core.services.grace): its half-time
    reminder or its expiry.

    Written in NEXT's transaction, fired once by whichever process claims it first (the
    claim and its effect share one transaction). `called_at` is the call it belongs
    to: a timer whose call was undone, or re-made, finds another `called_at` on the
    appointment and does nothing.
    """

    id = fields.IntField(primary_key=True)
    appointment: fields.ForeignKeyRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="grace_timers", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)
    called_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    fired_at = fields.DatetimeField(null=True)
    # Set when the customer's LATE pushed this timer back (once per call).
    extended_at = fields.DatetimeField(null=True)

    appointment_id: int

    class Meta:
        table = "grace_timers"
