"""Typed application state."""

from __future__ import annotations

from aiohttp import web

from bot.inbox import Inbox
from core.services.line_pages import PageCache
from core.services.line_ranks import RankCache
from core.services.outbox.wakeup import Wakeup
from core.services.pending_links import PendingLinks
from core.settings import Settings
from webhooks.live import LineHub
from webhooks.status_views import StatusViews

SETTINGS = web.AppKey("settings", Settings)
# Rendered queue pages of this app's database, checked against line versions on each read.
QUEUE_PAGES = web.AppKey("queue_pages", PageCache)
# The one inbound path, with the replies it stores in batches: every channel's messages
# go through it (created at start-up, see webhooks.app).
INBOX = web.AppKey("inbox", Inbox)
# Rankings of this app's lines, for the spots a STATUS tells (core.services.line_ranks).
RANKS = web.AppKey("ranks", RankCache)
# Wakes this app's outbox dispatcher: each entry point that wrote messages calls
# `wake()` once its work has committed. Set by a cleanup_ctx while the app runs.
OUTBOX_WAKEUP = web.AppKey("outbox_wakeup", Wakeup)
# Whether a request that lost its database connection before writing is run once more:
# only where the connections note what may have committed (core.connectivity's
# PostgreSQL pools). A SQLite file loses no connection, and notes nothing.
RETRY_LOST_CONNECTIONS = web.AppKey("retry_lost_connections", bool)
# Who watches which line in this process (the web screens' live updates); started by
# a cleanup_ctx while the app runs.
LINE_HUB = web.AppKey("line_hub", LineHub)
# The status pages' reads of this process, from memory while their lines stand still
# (webhooks.status_views); created with the hub.
STATUS_VIEWS = web.AppKey("status_views", StatusViews)
# Status links given in answers, not stored yet: the inbox's writer stores them with its
# replies, and a page asked for before that waits for the write.
PENDING_LINKS = web.AppKey("pending_links", PendingLinks)
