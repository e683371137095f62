"""The pages' POSTs come from their own origin, or are refused."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from core.settings import Settings
from webhooks.pages.origin import is_same_origin, require_same_origin

SETTINGS = Settings(_env_file=None, public_base_url="https://wait.example.com")  # type: ignore[call-arg]


def _post(**headers: str) -> web.Request:
    return make_mocked_request("POST", "/console/next", headers={"Host": "10.0.0.5:8080", **headers})


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://wait.example.com"},
        {"Origin": "HTTPS://WAIT.EXAMPLE.COM"},
        {"Origin": "http://10.0.0.5:8080"},
        {"Referer": "https://wait.example.com/console"},
        {"Origin": "null", "Referer": "https://wait.example.com/s/abc"},
    ],
)
def test_a_post_from_the_public_origin_or_the_host_addressed_is_same_origin(headers):
    assert is_same_origin(_post(**headers), SETTINGS)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.net"},
        {"Origin": "https://wait.example.com.evil.example.net"},
        {"Origin": "http://wait.example.com"},
        {"Referer": "https://evil.example.net/https://wait.example.com/"},
        {"Origin": "null"},
        {},
    ],
)
def test_a_post_from_another_origin_or_from_nowhere_is_refused_with_403(headers):
    request = _post(**headers)
    assert not is_same_origin(request, SETTINGS)
    with pytest.raises(web.HTTPForbidden):
        require_same_origin(request, SETTINGS)
