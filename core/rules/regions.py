"""A provider's region (ISO 3166 alpha-2): for numbers typed without a country code
and for the order of numeric dates.

A provider's `country` is set when it is created: the one country its time zone
belongs to, per the IANA tz database's zone.tab (shipped in the `tzdata` package), else
the DEFAULT_PHONE_REGION setting. A region counts as known when libphonenumber has a
numbering plan for it, since reading typed numbers is what it is for.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import phonenumbers

# DEFAULT_PHONE_REGION's default.
FALLBACK_REGION = "US"


class InvalidRegion(ValueError):
    """Not a region we know."""


def known_region(code: str) -> str:
    """`code` upper-cased if it is a known two-letter region, else raise InvalidRegion."""
    region = code.strip().upper() if isinstance(code, str) else ""
    if len(region) != 2 or region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidRegion("must be a known ISO 3166 alpha-2 region, e.g. US or FR")
    return region


@cache
def _zone_countries() -> dict[str, str]:
    """Each zone.tab zone's one country, and each link name's (US/Eastern, Asia/Calcutta)
    through the zone it points to, from tzdata.zi."""
    zoneinfo = files("tzdata").joinpath("zoneinfo")
    countries: dict[str, str] = {}
    for line in zoneinfo.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_ = line.split("\t")
            countries[zone] = code
    for line in zoneinfo.joinpath("tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _, target, name = line.split()
            if name not in countries and target in countries:
                countries[name] = countries[target]
    return countries


def country_of_timezone(timezone: str) -> str | None:
    """The one known region IANA lists `timezone` in; None for UTC, Etc/GMT+5 and the like."""
    code = _zone_countries().get(timezone)
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def effective_country(country: str | None, timezone: str, default: str) -> str:
    """A provider's region: its own `country`, else its time zone's, else `default`."""
    return country or country_of_timezone(timezone) or default
