"""Feed tokens never reach the logs: a feed's path is its secret
(/ical/<token>.ics), and access logs print request paths, the app's error log
the path of a failing request and a traceback whose message may name it."""

from __future__ import annotations

import logging
import re

FEED_PATH = re.compile(r"/ical/[^/\s\"?]+\.ics")
# The access loggers of the development server and of gunicorn, gunicorn's error
# log (it names the path of a request it could not handle) and the app's own
# (Flask's app.logger: booking.errors logs every unexpected error there).
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "booking")


def redact(text: str) -> str:
    return FEED_PATH.sub("/ical/[secret].ics", text)


class RedactFeedTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/ical/" in message:
            record.msg = redact(message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # Formatted here once, redacted; handlers print this cached text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
            logger.addFilter(RedactFeedTokens())
