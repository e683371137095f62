"""Day arithmetic: an appointment belongs to its local day in the provider's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidDate(ValueError):
    """The text is not a date or datetime we accept."""


class InvalidTimezone(ValueError):
    """The name is not an IANA time zone."""


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
    return moment.astimezone(zone(tz_name)).date()


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
    midnight), is in the provider's time zone.
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
    return moment.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
