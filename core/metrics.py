"""What a running server counts for an operator's Prometheus: one home for every metric.

The objects are process-wide. Under `waitlist serve --workers N` each process writes its
values to files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode,
chosen when it is first imported; cli.metrics_dir sets the directory up before any
worker starts) and a scrape adds up every worker's (webhooks.metrics).

Hot paths take pre-resolved children (`label children` below): `labels()` takes a lock
and builds a key each time, a dict lookup of our own does not. Gauges that need the
database (the outbox's backlog) are read at scrape time, not kept here.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from core.models import Channel

_PREFIX = "waitlist"

# From a cached queue page (about a millisecond) to a request that waited on the
# database for its whole statement timeout.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

http_request_seconds = Histogram(
    f"{_PREFIX}_http_request_duration_seconds",
    "HTTP requests by method, route template (never the raw path) and status, in seconds",
    ("method", "route", "status"),
    buckets=HTTP_BUCKETS,
)

# Outcomes of an inbound message (bot.inbox; the channels' webhooks for a signature).
ANSWERED = "answered"
DUPLICATE = "duplicate"
FLOODED = "flooded"
REFUSED_SIGNATURE = "refused_signature"
INBOUND_OUTCOMES = (ANSWERED, DUPLICATE, FLOODED, REFUSED_SIGNATURE)

inbound_messages = Counter(
    f"{_PREFIX}_inbound_messages",
    "Inbound messages by channel and outcome: answered, duplicate (a redelivery), "
    "flooded (over INBOUND_PER_MINUTE), refused_signature (not signed by the channel)",
    ("channel", "outcome"),
)
inbound_by = {
    (channel.value, outcome): inbound_messages.labels(channel.value, outcome)
    for channel in Channel
    for outcome in INBOUND_OUTCOMES
}

outbox_sent = Counter(
    f"{_PREFIX}_outbox_sent", "Outbox messages the channel accepted, by channel", ("channel",)
)
outbox_failed = Counter(
    f"{_PREFIX}_outbox_failed",
    "Outbox messages given up on (undeliverable, or out of attempts), by channel",
    ("channel",),
)
# From the time a message fell due (its latest next attempt) to the channel's acceptance.
outbox_lag_seconds = Histogram(
    f"{_PREFIX}_outbox_dispatch_lag_seconds",
    "Seconds from an outbox message falling due to the channel accepting it, by channel",
    ("channel",),
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
sent_by = {channel.value: outbox_sent.labels(channel.value) for channel in Channel}
failed_by = {channel.value: outbox_failed.labels(channel.value) for channel in Channel}
lag_by = {channel.value: outbox_lag_seconds.labels(channel.value) for channel in Channel}

# Summed over the live processes: a worker that exited stops counting (mark_process_dead).
db_pool_in_use = Gauge(
    f"{_PREFIX}_db_pool_connections_in_use",
    "PostgreSQL connections borrowed from this server's pools, by pool",
    ("pool",),
    multiprocess_mode="livesum",
)

queue_page_cache_hits = Counter(
    f"{_PREFIX}_queue_page_cache_hits", "Queue pages answered from the cache (line unchanged)"
)
queue_page_cache_misses = Counter(
    f"{_PREFIX}_queue_page_cache_misses", "Queue pages rendered because the line had changed"
)
