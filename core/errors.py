"""Domain errors. Each entry point translates them in one place."""

from __future__ import annotations

from datetime import date, time


class DomainError(Exception):
    """A request the domain refuses, with a message fit for the person who made it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class AlreadyExists(DomainError):
    pass


class InvalidTransition(DomainError):
    """A status change that the appointment's current status does not allow."""


class InProgress(DomainError):
    """The same request (by its idempotency key) is still being handled elsewhere."""


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a domain rule (a past day, a bad time zone)."""


class TooFarAhead(InvalidInput):
    """A day past the provider's booking horizon (invalid input, like a past day)."""

    def __init__(self, message: str, *, horizon_days: int, last_day: date) -> None:
        super().__init__(message)
        self.horizon_days = horizon_days
        self.last_day = last_day


class NoRoom(DomainError):
    """A join refused because the day is full (max_waiting, daily_limit) or closed by
    hand (CLOSE); `next_day` is the first later day within the horizon that has room."""

    def __init__(self, message: str, *, closed: bool, next_day: date | None) -> None:
        super().__init__(message)
        self.closed = closed
        self.next_day = next_day


class TooEarly(InvalidTransition):
    """Completing or marking a no-show before the appointment's day has come."""

    def __init__(self, message: str, *, day: date) -> None:
        super().__init__(message)
        self.day = day


class InvalidRange(DomainError):
    """A range of days refused for a report: backwards, or longer than allowed."""


class UnknownLanguage(DomainError):
    """A language no catalog (core.locales) is written in."""


class ClosedDay(InvalidInput):
    """A join for a day the provider is closed (its hours or closed dates)."""

    def __init__(self, message: str, *, day: date, next_open: date | None) -> None:
        super().__init__(message)
        self.day = day
        self.next_open = next_open


class AfterClosing(InvalidInput):
    """A same-day join whose estimated turn falls after the provider closes."""

    def __init__(self, message: str, *, closes: time, next_open: date | None) -> None:
        super().__init__(message)
        self.closes = closes
        self.next_open = next_open
