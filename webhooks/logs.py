"""Logging set-up: phone numbers never reach a log in full."""

from __future__ import annotations

import logging

from core.rules.phones import mask_phones_in


class MaskPhones(logging.Filter):
    """Rewrites a record's message with every phone-like number masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_phone_masking() -> None:
    # The access log prints request lines, which carry phones in paths and queries.
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskPhones) for f in logger.filters):
            logger.addFilter(MaskPhones())


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Library loggers at INFO would echo request URLs (with phones and tokens) verbatim.
    for noisy in ("httpx", "telegram", "twilio.http_client", "tortoise", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    install_phone_masking()
