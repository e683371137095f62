"""Driving the provider console over real HTTP on loopback: the app with the SMS
channel on (codes go out through the fake Twilio), and a browser-like caller that
keeps its own session cookie and sends the pages' Origin."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from tests.sms_support import Sms, deliver_outbox

_CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class ConsoleUser:
    """One browser: its cookies, sent by hand (the session cookie is Secure and the test
    server is plain http on loopback, which a cookie jar would not send it to)."""

    sms: Sms
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return str(self.sms.client.make_url("/").origin())

    def _headers(self, origin: str | None) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if origin is not None:
            headers["Origin"] = origin
        return headers

    def _keep(self, response: Any) -> None:
        for header in response.headers.getall("Set-Cookie", []):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def get(self, path: str) -> Any:
        response = await self.sms.client.get(
            path, headers=self._headers(None), allow_redirects=False
        )
        self._keep(response)
        return response

    async def post(self, path: str, data: dict[str, str], *, origin: str | None = "") -> Any:
        sent = self.origin if origin == "" else origin
        response = await self.sms.client.post(
            path, data=data, headers=self._headers(sent), allow_redirects=False
        )
        self._keep(response)
        return response

    async def press(self, action: str, **fields: str) -> Any:
        response = await self.post("/console/do", {"action": action, **fields})
        assert response.status == 303, await response.text()
        return response

    async def page(self) -> str:
        response = await self.get("/console")
        assert response.status == 200, await response.text()
        return await response.text()


async def last_code_to(sms: Sms, phone: str) -> str:
    """The code in the latest text the fake Twilio got for `phone`."""
    await deliver_outbox(sms)
    bodies = [m.body for m in sms.api.messages if m.to == phone and _CODE.search(m.body)]
    assert bodies, f"no code was texted to {phone[-4:]}"
    found = _CODE.search(bodies[-1])
    assert found is not None
    return found.group(1)


async def sign_in(user: ConsoleUser, phone: str) -> None:
    response = await user.post("/console/code", {"phone": phone})
    assert response.status == 200, await response.text()
    code = await last_code_to(user.sms, phone)
    response = await user.post("/console/verify", {"phone": phone, "code": code})
    assert response.status == 303, await response.text()
