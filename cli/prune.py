"""`waitlist prune`: delete what is past retention now, unless another process is."""

from __future__ import annotations

from core import db
from core.services import pruning
from core.services.prune_worker import Busy, elected
from core.settings import Settings


async def prune(settings: Settings) -> dict[str, pruning.Swept] | None:
    """What went, per table; None when another process holds the prune lock."""
    ctx = await db.start(settings.database_url, connect_timeout=settings.db_connect_timeout)
    try:
        async with elected(db.listen_params(settings.database_url)):
            return await pruning.prune(
                keep=settings.retention, pacing=pruning.Pacing(settings.prune_pause_ratio)
            )
    except Busy:
        return None
    finally:
        await ctx.close_connections()
