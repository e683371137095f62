"""Screenshots of the web screens for the README, taken in Debian's chromium.

    python -m examples.screens                      # the demo board at TV size
    python -m examples.screens --page status=/s/TOKEN@390x844 --page console=/console@1280x800
    python -m examples.screens --base http://127.0.0.1:8080 --page board=/board/SPA@1920x1080

Without --base it builds a demo line on a fresh SQLite database in a temporary folder
(a barbershop with five customers, one called), serves the real app on loopback and
shoots /board/SHOP at 1920x1080 and 1280x720, the third customer's status page at
phone size (390x844) and the shop's console (1280x800, signed in), plus any --page given (a path on the
demo server, or a full URL). With --base it shoots only the --page entries, on that
server. Each --page is NAME=PATH@WIDTHxHEIGHT; the PNGs go to docs/screens/NAME.png
(or --out). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestServer

from core import db
from core.models import Appointment
from core.rules.days import utcnow
from core.services import (
    booking,
    calling,
    console_access,
    service_accounts,
    status_links,
    users,
)
from core.settings import Settings
from webhooks.pages.console import SESSION_COOKIE

OUT = Path("docs/screens")
SHOP = "+14155550100"
OUR_NUMBER = "+14155550199"
PEOPLE = ("Ann Lee", "Bob Ray", "Cy Moss", "Di Park", "Eve Stone")
DEMO_PAGES = ("board-tv=/board/SHOP@1920x1080", "board-720p=/board/SHOP@1280x720")
_PAGE = re.compile(r"^(?P<name>[\w.-]+)=(?P<path>\S+)@(?P<width>\d+)x(?P<height>\d+)$")


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    path: str
    width: int
    height: int


def parse_page(text: str) -> Shot:
    found = _PAGE.match(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=PATH@WIDTHxHEIGHT")
    return Shot(found["name"], found["path"], int(found["width"]), int(found["height"]))


@dataclass(frozen=True, slots=True)
class Demo:
    status_token: str  # the third customer's status page (/s/<token>)
    session: str  # a console session of the shop's


async def _demo_line(database_url: str) -> Demo:
    ctx = await db.start(database_url)
    try:
        await service_accounts.create_service_account(
            phone=SHOP, name="Main Street Barbers", code="SHOP"
        )
        for n, name in enumerate(PEOPLE, start=1):
            phone = f"+1415555{n:04d}"
            await users.create_user(phone=phone, name=name)
            account = await service_accounts.get_service_account(phone=SHOP)
            await booking.join_line(user_phone=phone, account=account, day=utcnow().date())
        await calling.call_next(service_account_phone=SHOP)
        account = await service_accounts.get_service_account(phone=SHOP)
        third = await Appointment.get(user__phone="+14155550003", service_account_id=account.id)
        return Demo(
            status_token=await status_links.issue(appointment_id=third.id, day=third.day),
            session=await console_access.open_session(account_id=account.id, now=utcnow()),
        )
    finally:
        await ctx.close_connections()


async def _shoot(
    base: str, shots: Sequence[Shot], out: Path, cookies: dict[str, str] | None = None
) -> None:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for shot in shots:
                context = await browser.new_context(
                    viewport={"width": shot.width, "height": shot.height}
                )
                await context.add_cookies(
                    [{"name": k, "value": v, "url": base} for k, v in (cookies or {}).items()]
                )
                page = await context.new_page()
                url = shot.path if "://" in shot.path else base.rstrip("/") + shot.path
                await page.goto(url)
                # Let the live part connect and fill in.
                await page.wait_for_timeout(500)
                target = out / f"{shot.name}.png"
                await page.screenshot(path=str(target))
                await context.close()
                print(f"{target} ({shot.width}x{shot.height}) <- {url}")
        finally:
            await browser.close()


async def _demo(shots: Sequence[Shot], out: Path) -> None:
    from webhooks.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'screens.db'}"
        await db.migrate(url)
        demo = await _demo_line(url)
        shots = [
            *shots,
            Shot("status-phone", f"/s/{demo.status_token}", 390, 844),
            Shot("console", "/console", 1280, 800),
        ]
        settings = Settings(
            _env_file=None, database_url=url, twilio_from_number=OUR_NUMBER, access_log="off"
        )
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        try:
            await _shoot(
                str(server.make_url("")), shots, out, {SESSION_COOKIE: demo.session}
            )
        finally:
            await server.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.screens", description=__doc__)
    parser.add_argument("--base", help="a running server's URL (no demo line then)")
    parser.add_argument(
        "--page", action="append", type=parse_page, default=[], help="NAME=PATH@WIDTHxHEIGHT"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.base:
        if not args.page:
            parser.error("--base needs at least one --page")
        asyncio.run(_shoot(args.base, args.page, args.out))
        return
    shots = [parse_page(p) for p in DEMO_PAGES] + list(args.page)
    asyncio.run(_demo(shots, args.out))


if __name__ == "__main__":
    main(sys.argv[1:])
