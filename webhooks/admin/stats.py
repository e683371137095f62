"""/service-accounts/{phone}/stats and /appointments.csv: a provider's range of days."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from core.rules import exports
from core.rules import stats as stats_rules
from core.rules.phones import mask_phone
from core.services import stats
from webhooks.admin.routing import Operation
from webhooks.responses import envelope
from webhooks.schemas import (
    DayFiguresOut,
    Envelope,
    FiguresOut,
    MessagesOut,
    PhonePath,
    RangeQuery,
    StatsOut,
)
from webhooks.state import SETTINGS
from webhooks.validation import path_of, query_of

log = logging.getLogger(__name__)


def _figures(figures: stats_rules.Figures) -> dict[str, Any]:
    return {
        "served": figures.served,
        "cancellations": figures.cancellations,
        "no_shows": figures.no_shows,
        "no_show_rate": figures.no_show_rate,
        "median_wait_minutes": figures.median_wait,
        "p90_wait_minutes": figures.p90_wait,
        "median_service_minutes": figures.median_service,
        "estimate_error_minutes": figures.estimate_error,
    }


async def read_stats(request: web.Request) -> web.Response:
    phone = path_of(request, PhonePath).phone
    query = query_of(request, RangeQuery)
    found = await stats.range_stats(
        service_account_phone=phone,
        start=query.start,
        end=query.end,
        sms_price_per_segment=request.app[SETTINGS].sms_price_per_segment,
    )
    messages = found.messages
    out = StatsOut(
        service_account_phone=phone,
        start=found.start,
        end=found.end,
        total=FiguresOut(**_figures(found.total)),
        days=[DayFiguresOut(day=d.day, **_figures(d.figures)) for d in found.days],
        messages=MessagesOut(
            sent=messages.sent,
            sms_segments=messages.sms_segments,
            estimated_cost=messages.estimated_cost,
        ),
    )
    return envelope("Stats retrieved successfully", out.model_dump(mode="json", by_alias=True))


def _csv(rows: Iterable[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def export_csv(request: web.Request) -> web.StreamResponse:
    phone = path_of(request, PhonePath).phone
    query = query_of(request, RangeQuery)
    # Refusals (unknown provider, bad range) come before the answer starts.
    pages = await stats.export_pages(service_account_phone=phone, start=query.start, end=query.end)
    name = f"appointments-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    await response.write(_csv([exports.HEADER]))
    try:
        async for page in pages:
            # write() waits while the client is slower than the database, so at most a
            # page or so is ever held here.
            await response.write(_csv(exports.cells(row) for row in page))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        # The 200 has gone, so no error answer can follow. Closing without the final
        # chunk makes the client see an incomplete download, never a short file that
        # looks whole.
        log.warning("CSV export for %s cut off: %r", mask_phone(phone), exc)
        if request.transport is not None:
            request.transport.abort()
        return response
    await response.write_eof()
    return response


_TAG = "service accounts"
OPERATIONS = [
    Operation(
        "GET",
        "/service-accounts/{phone}/stats",
        read_stats,
        "A provider's figures over days from..to, per day and in total",
        _TAG,
        {200: Envelope[StatsOut]},
        query=RangeQuery,
        path_params=PhonePath,
        errors=(400, 404, 422),
    ),
    Operation(
        "GET",
        "/service-accounts/{phone}/appointments.csv",
        export_csv,
        "A provider's appointments on days from..to as CSV (streamed; phones masked)",
        _TAG,
        {200: None},
        query=RangeQuery,
        path_params=PhonePath,
        errors=(400, 404, 422),
        media_type="text/csv",
    ),
]
