"""The admin REST API: users, service accounts and appointments."""

from __future__ import annotations

from aiohttp import web

from webhooks.admin import appointments, service_accounts, stats, users
from webhooks.admin.routing import Operation

OPERATIONS: list[Operation] = [
    *users.OPERATIONS,
    *service_accounts.OPERATIONS,
    *appointments.OPERATIONS,
    *stats.OPERATIONS,
]


def setup(app: web.Application) -> None:
    for op in OPERATIONS:
        # Each endpoint answers with and without the trailing slash: both are the contract.
        bare = op.path.rstrip("/")
        for path in (bare, f"{bare}/"):
            app.router.add_route(op.method, path, op.handler)
