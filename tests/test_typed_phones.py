"""Typed numbers and provider regions: the pure rules, without I/O."""

from __future__ import annotations

import pytest

from core.rules.regions import (
    InvalidRegion,
    country_of_timezone,
    effective_country,
    known_region,
)
from core.rules.typed_phones import NotAValidNumber, take_typed_number, typed_phone


@pytest.mark.parametrize(
    ("timezone", "country"),
    [
        ("America/New_York", "US"),
        ("US/Eastern", "US"),  # a link name, through the zone it points to
        ("Europe/Paris", "FR"),
        ("Europe/Oslo", "NO"),
        ("Asia/Calcutta", "IN"),
        ("America/Toronto", "CA"),
        ("Asia/Manila", "PH"),
    ],
)
def test_a_time_zone_of_one_country_names_that_country(timezone, country):
    assert country_of_timezone(timezone) == country


@pytest.mark.parametrize("timezone", ["UTC", "Etc/GMT+5", "EST5EDT", "Antarctica/Troll", "Nope"])
def test_a_time_zone_of_no_single_country_names_none(timezone):
    assert country_of_timezone(timezone) is None


def test_the_effective_country_is_the_own_then_the_zones_then_the_default():
    assert effective_country("FR", "America/New_York", "US") == "FR"
    assert effective_country(None, "Europe/Paris", "US") == "FR"
    assert effective_country(None, "UTC", "GB") == "GB"


@pytest.mark.parametrize(("code", "region"), [("us", "US"), ("FR", "FR"), (" gb ", "GB")])
def test_a_known_region_comes_back_upper_case(code, region):
    assert known_region(code) == region


@pytest.mark.parametrize("code", ["", "U", "USA", "ZZ", "12", "EU"])
def test_an_unknown_region_is_refused(code):
    with pytest.raises(InvalidRegion):
        known_region(code)


@pytest.mark.parametrize(
    ("text", "region", "phone"),
    [
        ("415-555-0151", "US", "+14155550151"),
        ("(415) 555 0151", "US", "+14155550151"),
        ("+14155550151", "FR", "+14155550151"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("＋１ ４１５ ５５５ ０１５１", "US", "+14155550151"),
    ],
)
def test_a_typed_number_is_read_in_the_providers_region(text, region, phone):
    assert typed_phone(text, region=region) == phone


@pytest.mark.parametrize(
    "text", ["+999999999999", "+1 303 000 0001", "+1234567890", "555-0151", "3", "+10000000"]
)
def test_a_number_no_numbering_plan_allows_is_not_valid(text):
    with pytest.raises(NotAValidNumber, match="not a valid phone number"):
        typed_phone(text, region="US")


@pytest.mark.parametrize(
    ("words", "number", "rest"),
    [
        (("415", "555-0151", "Dana"), "415 555-0151", ("Dana",)),
        (("Dana", "415-555-0151"), "415-555-0151", ("Dana",)),
        (("+12345", "Ned"), "+12345", ("Ned",)),
        (("Ned", "Bell"), None, ("Ned", "Bell")),
    ],
)
def test_the_typed_number_is_the_first_run_of_number_words(words, number, rest):
    assert take_typed_number(words) == (number, rest)
