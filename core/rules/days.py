"""Day arithmetic: an appointment belongs to its local day in the provider's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidDate(ValueError):
    """The text is not a date or datetime we accept."""


class InvalidTimezone(ValueError):
    """The name is not an IANA time zone."""


class OutOfRange(InvalidDate):
    """A moment too close to datetime's limits (years 1 and 9999) to move between zones."""

    def __init__(self, *, future: bool) -> None:
        super().__init__("appointment_date is out of range")
        self.future = future


class DayPassed(ValueError):
    """A day before the provider's today."""


class BeyondHorizon(ValueError):
    """A day past the provider's booking horizon."""

    def __init__(self, *, horizon_days: int, last_day: date) -> None:
        super().__init__(
            f"bookings open at most {horizon_days} days ahead (until {last_day.isoformat()})"
        )
        self.horizon_days = horizon_days
        self.last_day = last_day


# The booking horizon a provider may set, in days: at least one, at most about ten years.
MIN_HORIZON_DAYS, MAX_HORIZON_DAYS = 1, 3650


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimezone(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Paris"
        ) from exc


def validate_timezone(name: str) -> str:
    zone(name)
    return name


def today_in(tz_name: str, *, now: datetime) -> date:
    return now.astimezone(zone(tz_name)).date()


def local_day(moment: datetime, tz_name: str) -> date:
    """The day `moment` falls on in the zone. Raises OutOfRange near datetime's limits."""
    try:
        return moment.astimezone(zone(tz_name)).date()
    except OverflowError as exc:
        raise OutOfRange(future=moment.year > 1) from exc


def parse_day(text: str) -> date:
    """A bare `YYYY-MM-DD` day."""
    if not _BARE_DATE.match(text):
        raise InvalidDate("day must be YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDate(f"{text!r} is not a calendar day") from exc


def parse_appointment_moment(value: str | datetime | date, tz_name: str) -> datetime:
    """Turn the API's appointment_date into an aware datetime.

    An ISO datetime may carry an offset; a naive one, or a bare day (read as local
    midnight), is in the provider's time zone. Raises InvalidDate, and OutOfRange for a
    moment no time zone arithmetic can place (9999-12-31T23:30 in New York).
    """
    tz = zone(tz_name)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    else:
        text = value.strip()
        try:
            moment = (
                datetime.combine(parse_day(text), time.min)
                if _BARE_DATE.match(text)
                else datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError as exc:
            raise InvalidDate("appointment_date must be an ISO datetime or YYYY-MM-DD") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise OutOfRange(future=moment.year > 1) from exc


def last_bookable_day(today: date, horizon_days: int) -> date:
    """The last day a provider with this horizon takes bookings for, seen from `today`."""
    try:
        return today + timedelta(days=horizon_days)
    except OverflowError:
        return date.max


def check_bookable(day: date, *, today: date, horizon_days: int) -> None:
    """A booking's day must be from the provider's today to `horizon_days` after it.

    Raises DayPassed or BeyondHorizon.
    """
    if day < today:
        raise DayPassed("appointment_date is in the past for this service account")
    last = last_bookable_day(today, horizon_days)
    if day > last:
        raise BeyondHorizon(horizon_days=horizon_days, last_day=last)


def booking_moment(
    value: str | datetime | date, tz_name: str, *, now: datetime, horizon_days: int
) -> tuple[datetime, date]:
    """The UTC moment and the provider's local day of a booking for `value`.

    Raises InvalidDate (not a date), DayPassed or BeyondHorizon; a moment too far out
    for datetime arithmetic is one of the last two, never an OverflowError.
    """
    today = today_in(tz_name, now=now)
    try:
        moment = parse_appointment_moment(value, tz_name)
        day = local_day(moment, tz_name)
    except OutOfRange as exc:
        if exc.future:
            raise BeyondHorizon(
                horizon_days=horizon_days, last_day=last_bookable_day(today, horizon_days)
            ) from exc
        raise DayPassed("appointment_date is in the past for this service account") from exc
    check_bookable(day, today=today, horizon_days=horizon_days)
    return moment, day


def check_listable(day: date, *, today: date, horizon_days: int, opened: date) -> None:
    """A queue asked for a day on which nobody can have booked: past the horizon, or
    before the provider existed (`opened`). Raises InvalidDate with the reason."""
    last = last_bookable_day(today, horizon_days)
    if day > last:
        raise InvalidDate(
            f"day is more than {horizon_days} days ahead: this service account takes "
            f"bookings until {last.isoformat()}"
        )
    if day < opened:
        raise InvalidDate(
            f"day is before this service account was created ({opened.isoformat()})"
        )


def utcnow() -> datetime:
    return datetime.now(UTC)
