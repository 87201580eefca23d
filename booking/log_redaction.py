"""Feed tokens never reach the logs: access logs print request paths, and a
feed's path is its secret (/ical/<token>.ics)."""

from __future__ import annotations

import logging
import re

FEED_PATH = re.compile(r"/ical/[^/\s\"?]+\.ics")


class RedactFeedTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/ical/" in message:
            record.msg = FEED_PATH.sub("/ical/[secret].ics", message)
            record.args = ()
        return True


def install() -> None:
    """On the access loggers of the development server and of gunicorn."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
            logger.addFilter(RedactFeedTokens())
