"""The admin API's contract: request and response models. The OpenAPI spec is built from these."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from core.rules.capacity import MAX_CAPACITY, MAX_CHAIRS
from core.rules.console_access import MAX_STAFF_PHONES
from core.rules.days import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    InvalidDate,
    InvalidTimezone,
    parse_day,
    validate_timezone,
)
from core.rules.grace import DEFAULT_GRACE_MINUTES, MAX_GRACE_MINUTES
from core.rules.hours import WEEKDAYS, check_closed_dates, check_hours
from core.rules.limits import CODE_PATTERN, MAX_ID
from core.rules.phones import normalize_phone
from core.rules.regions import InvalidRegion, known_region

MAX_SKIP = 10**9
# Rows in one page of any list, and in a detail read's appointments.
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _phone(value: object) -> object:
    return normalize_phone(value) if isinstance(value, str) else value


def _timezone(value: str) -> str:
    try:
        return validate_timezone(value)
    except InvalidTimezone as exc:
        raise ValueError(str(exc)) from None


def _country(value: str) -> str:
    try:
        return known_region(value)
    except InvalidRegion as exc:
        raise ValueError(str(exc)) from None


def _code(value: str) -> str:
    return value.upper()


Phone = Annotated[
    str,
    BeforeValidator(_phone),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\+[0-9]{7,17}$",
            "description": "The original API's rule, kept for its clients: + then 7 to 17 "
            "ASCII digits, with no check against numbering plans. Read after Unicode NFKC "
            "(fullwidth digits count as ASCII); any whitespace (a trailing newline too), "
            "dashes, dots and parentheses are dropped; a leading space is read as +. "
            "Stored and returned in the canonical form the pattern shows.",
            "examples": ["+14155550101"],
        }
    ),
]

# A provider's staff (core.services.staff): each phone read as every phone of the API is.
StaffPhones = Annotated[list[Phone], Field(max_length=MAX_STAFF_PHONES)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S"),
    AfterValidator(_no_nul),
]
LongText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
Timezone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_timezone),
    WithJsonSchema(
        {
            "type": "string",
            "description": "IANA time zone name",
            "examples": ["UTC", "Europe/Paris"],
        }
    ),
]
Country = Annotated[
    str,
    StringConstraints(max_length=8),
    AfterValidator(_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166 alpha-2 region (upper-cased), for numbers typed without "
            "a country code and the order of numeric dates. Defaults to the one country "
            "of the time zone, else the server's DEFAULT_PHONE_REGION.",
            "examples": ["US", "FR"],
        }
    ),
]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN), AfterValidator(_code)]
Weight = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
HalfLife = Annotated[float, Field(gt=0, le=36500, allow_inf_nan=False)]
Horizon = Annotated[
    int,
    Field(
        ge=MIN_HORIZON_DAYS,
        le=MAX_HORIZON_DAYS,
        description="How many days ahead customers may book (a later day is refused with 422).",
    ),
]

MaxWaiting = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_CAPACITY,
        description="People waiting at once; a join past it is refused with 400 (null: no limit).",
    ),
]
DailyLimit = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_CAPACITY,
        description="Bookings per day; a join past it is refused with 400 (null: no limit).",
    ),
]
Grace = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_GRACE_MINUTES,
        allow_inf_nan=False,
        description=(
            "Minutes a called customer has to confirm (HERE) before their spot expires; "
            "fractions allowed, 0 turns grace periods off."
        ),
    ),
]
AutoCallNext = Annotated[
    bool,
    Field(description="Whether an automatic no-show at a grace period's end calls the next person."),
]
BoardPublic = Annotated[
    bool,
    Field(
        description="Whether the lobby board /board/<code> is open to anyone with the link; "
        "when false it needs a console session or ?key= with the board key "
        "(POST /service-accounts/{phone}/board-key)."
    ),
]
BoardNames = Annotated[
    Literal["name", "ticket"],
    Field(
        description='What the lobby board shows for each spot: "name" (first name and last '
        'initial, "Ann L.") or "ticket" (the short per-day number given at joining).'
    ),
]
Chairs = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_CHAIRS,
        description="People served at once; the estimated wait is divided by it.",
    ),
]
_HOURS_SCHEMA = WithJsonSchema(
    {
        "type": "object",
        "propertyNames": {"enum": list(WEEKDAYS)},
        "additionalProperties": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "description": "Weekly opening hours in the provider's time zone: HH:MM "
        "[opens, closes] intervals per day, in order and not overlapping. A missing "
        "day is closed; no hours (null) means always open.",
        "examples": [{"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}],
    }
)
_CLOSED_DATES_SCHEMA = WithJsonSchema(
    {
        "type": "array",
        "items": {"type": "string", "format": "date"},
        "description": "Days the provider is closed (holidays), in its time zone.",
    }
)
# Checked on the way in; read back as stored.
Hours = Annotated[dict[str, list[list[str]]], AfterValidator(check_hours), _HOURS_SCHEMA]
ClosedDates = Annotated[list[str], AfterValidator(check_closed_dates), _CLOSED_DATES_SCHEMA]
StoredHours = Annotated[dict[str, list[list[str]]], _HOURS_SCHEMA]
StoredClosedDates = Annotated[list[str], _CLOSED_DATES_SCHEMA]


def _appointment_date(value: object) -> object:
    """Keep a bare day a date and a datetime a datetime; zones are resolved per provider."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return parse_day(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (InvalidDate, ValueError):
            raise ValueError("must be an ISO datetime or YYYY-MM-DD") from None
    return value


AppointmentDate = Annotated[
    datetime | date,
    BeforeValidator(_appointment_date),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ],
            "description": "ISO datetime (naive means the service account's time zone) or YYYY-MM-DD.",
        }
    ),
]


class _In(BaseModel):
    # Unknown keys are ignored: clients may send fields this API does not know.
    model_config = ConfigDict(extra="ignore")


class UserCreate(_In):
    name: Name
    phone: Phone
    email: EmailStr | None = None


class PartialUpdate(_In):
    """A partial update: only the fields given change, and the phone never does."""

    # Accepted only to be refused with a clear message; not part of the documented body.
    phone: SkipJsonSchema[Any] = None
    _required: ClassVar[frozenset[str]] = frozenset(
        {
            "name",
            "enable_cancellation_scoring",
            "cancellation_weight",
            "no_show_weight",
            "timezone",
            "penalty_half_life_days",
            "country",
            "booking_horizon_days",
            "chairs",
            "grace_minutes",
            "auto_call_next",
            "board_public",
            "board_names",
            "staff_phones",
        }
    )

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for key in self.model_fields_set & self._required:
            if getattr(self, key) is None:
                raise ValueError(f"{key} cannot be null")
        return self

    @field_validator("phone", mode="before")
    @classmethod
    def _refuse_phone(cls, value: object) -> object:
        raise ValueError("Phone number cannot be changed")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"phone"})


class UserUpdate(PartialUpdate):
    name: Name | None = None
    email: EmailStr | None = None


class ServiceAccountFields(_In):
    email: EmailStr | None = None
    description: LongText | None = None
    enable_cancellation_scoring: bool = True
    cancellation_weight: Weight = 1.0
    no_show_weight: Weight = 2.0
    timezone: Timezone = "UTC"
    penalty_half_life_days: HalfLife = 30.0
    code: Code | None = None
    country: Country | None = None
    booking_horizon_days: Horizon = 90
    max_waiting: MaxWaiting | None = None
    daily_limit: DailyLimit | None = None
    chairs: Chairs = 1
    grace_minutes: Grace = DEFAULT_GRACE_MINUTES
    auto_call_next: AutoCallNext = False
    board_public: BoardPublic = True
    board_names: BoardNames = "name"
    hours: Hours | None = None
    closed_dates: ClosedDates | None = None
    staff_phones: StaffPhones = []


class ServiceAccountCreate(ServiceAccountFields):
    name: Name
    phone: Phone


class ServiceAccountUpdate(PartialUpdate):
    name: Name | None = None
    email: EmailStr | None = None
    description: LongText | None = None
    enable_cancellation_scoring: bool | None = None
    cancellation_weight: Weight | None = None
    no_show_weight: Weight | None = None
    timezone: Timezone | None = None
    penalty_half_life_days: HalfLife | None = None
    code: Code | None = None
    country: Country | None = None
    booking_horizon_days: Horizon | None = None
    max_waiting: MaxWaiting | None = None
    daily_limit: DailyLimit | None = None
    chairs: Chairs | None = None
    grace_minutes: Grace | None = None
    auto_call_next: AutoCallNext | None = None
    board_public: BoardPublic | None = None
    board_names: BoardNames | None = None
    hours: Hours | None = None
    closed_dates: ClosedDates | None = None
    # The whole list: what is given replaces what was there ([] removes every one).
    staff_phones: StaffPhones | None = None


class BoardKeyOut(BaseModel):
    # Shown once: only its hash is stored, and rotating it again invalidates it.
    key: str = Field(description="The new board key, for /board/<code>?key=...; shown only once.")
    board_url: str | None = Field(
        description="The board's path with the key, when the provider has a code."
    )


class AppointmentCreate(_In):
    user_phone: Phone
    service_account_phone: Phone
    appointment_date: AppointmentDate
    duration_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    notes: LongText | None = None


class Page(BaseModel):
    skip: Annotated[int, Field(ge=0, le=MAX_SKIP)] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE


class QueueQuery(Page):
    service_account_phone: Phone
    day: Annotated[
        date | None,
        BeforeValidator(lambda v: parse_day(v) if isinstance(v, str) else v),
        WithJsonSchema({"type": "string", "format": "date"}),
    ] = None
    user_phone: Phone | None = None

    @field_validator("day", mode="wrap")
    @classmethod
    def _day_message(cls, value: object, handler: Any) -> object:
        try:
            return handler(value)
        except InvalidDate as exc:
            raise ValueError(str(exc)) from None


class PhonePath(BaseModel):
    phone: Phone


class IdPath(BaseModel):
    id: Annotated[int, Field(ge=1, le=MAX_ID)]


Status = Literal["active", "canceled", "completed", "no_show"]


class UserOut(BaseModel):
    id: int
    name: str
    phone: str
    email: str | None
    created_at: datetime


class ServiceAccountOut(BaseModel):
    id: int
    name: str
    phone: str
    email: str | None
    description: str | None
    created_at: datetime
    enable_cancellation_scoring: bool
    cancellation_weight: float
    no_show_weight: float
    timezone: str
    penalty_half_life_days: float
    code: str | None
    country: str | None
    booking_horizon_days: int
    max_waiting: int | None
    daily_limit: int | None
    chairs: int
    grace_minutes: float
    auto_call_next: bool
    board_public: bool
    board_names: str
    # The provider's local day it was CLOSEd for joins (null: open).
    closed_on: date | None
    hours: StoredHours | None = None
    closed_dates: StoredClosedDates | None = None
    # Other phones that may sign in to the console and send the provider's commands.
    staff_phones: list[str] = []


class AppointmentOut(BaseModel):
    id: int
    user_phone: str
    service_account_phone: str
    appointment_date: datetime
    day: date
    duration_minutes: int
    notes: str | None
    status: Status
    penalty: float
    created_at: datetime


_RECENT = Field(
    description="The most recent appointments (at most appointments_limit), soonest day "
    "first; the whole history is the /appointments route beside this one"
)
_TOTAL = Field(description="How many appointments there are in all")


class UserDetail(UserOut):
    appointments: Annotated[list[AppointmentOut], _RECENT]
    appointments_total: Annotated[int, _TOTAL]


class ServiceAccountDetail(ServiceAccountOut):
    appointments: Annotated[list[AppointmentOut], _RECENT]
    appointments_total: Annotated[int, _TOTAL]


class DetailQuery(BaseModel):
    appointments_limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE


class AppointmentDetail(AppointmentOut):
    user: UserOut
    service_account: ServiceAccountOut


T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    success: Literal[True]
    message: str
    data: T


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    detail: str | list[FieldError]


def _iso_day(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return parse_day(value)
    except InvalidDate as exc:
        raise ValueError(str(exc)) from None


IsoDay = Annotated[
    date,
    BeforeValidator(_iso_day),
    WithJsonSchema({"type": "string", "format": "date"}),
]


class RangeQuery(BaseModel):
    """Days `from`..`to` (both included), the provider's own days; at most 366 of them."""

    model_config = ConfigDict(populate_by_name=True)

    start: IsoDay = Field(alias="from")
    end: IsoDay = Field(alias="to")


class HistoryQuery(Page):
    """A page of appointments on days `from`..`to` (each optional, both included; the
    provider's own days), of one status or any."""

    model_config = ConfigDict(populate_by_name=True)

    start: IsoDay | None = Field(default=None, alias="from")
    end: IsoDay | None = Field(default=None, alias="to")
    status: Status | None = None


Minutes = Annotated[float | None, Field(description="Minutes; null when nothing was measured")]


class FiguresOut(BaseModel):
    served: int
    cancellations: int
    no_shows: int
    no_show_rate: Annotated[
        float | None,
        Field(description="no_shows / (served + no_shows); null when both are 0"),
    ]
    median_wait_minutes: Annotated[
        float | None,
        Field(
            description="From joining (or the day's opening, for a booking made on an "
            "earlier day) to being called"
        ),
    ]
    p90_wait_minutes: Minutes
    median_service_minutes: Annotated[float | None, Field(description="From being called to done")]
    estimate_error_minutes: Annotated[
        float | None,
        Field(
            description="Median |quoted wait - actual wait| over the called spots "
            "whose customer was quoted a wait when joining by chat (API bookings quote "
            "none); null when none was"
        ),
    ]


class DayFiguresOut(FiguresOut):
    day: date


class MessagesOut(BaseModel):
    sent: Annotated[
        dict[str, int],
        Field(
            description="Messages about the provider's lines a channel accepted, per channel "
            "used (sms, whatsapp, telegram); a notice that went by SMS after failing on "
            "another channel counts once, as an SMS. Replies are not counted."
        ),
    ]
    sms_segments: Annotated[int, Field(description="SMS segments those SMS took")]
    estimated_cost: Annotated[
        Decimal | None,
        Field(
            description="sms_segments at SMS_PRICE_PER_SEGMENT, a decimal string in the "
            "price's currency; null when no price is set"
        ),
    ]


class StatsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    service_account_phone: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    total: FiguresOut
    days: Annotated[list[DayFiguresOut], Field(description="Each day with appointments, in order")]
    messages: MessagesOut
