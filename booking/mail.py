"""Handing outbox messages to the mail server, or to the log when none is set."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

from booking.services.inputs import single_line
from booking.services.messaging.notifications import SITE
from models import OutboxMessage

log = logging.getLogger("plateforme.mail")


def build_email(message: OutboxMessage, sender: str, base_url: str) -> EmailMessage:
    """Text body, plus the invitation as ``text/calendar; method=…`` so mail
    clients offer to add, update or remove the event. Links written against
    ``notifications.SITE`` get the site's address here."""
    email = EmailMessage()
    # Headers are one line each, whatever a message queued before the outbox
    # cleaned its subject holds (the email package refuses a line feed).
    email["From"] = sender
    email["To"] = single_line(message.to_addr)
    email["Subject"] = single_line(message.subject)
    email["Message-ID"] = f"<outbox-{message.id}@{sender.rsplit('@', 1)[-1]}>"
    email.set_content(message.body_text.replace(SITE, base_url))
    if message.ics:
        method = message.ics_method or "PUBLISH"
        email.add_attachment(message.ics.replace(SITE, base_url).encode(), maintype="text",
                             subtype="calendar", filename="invite.ics",
                             params={"method": method})
    return email


def sender_from_config(config: Mapping[str, Any]) -> Callable[[OutboxMessage], None]:
    sender = config.get("MAIL_FROM", "plateforme@localhost")
    base_url = str(config.get("BASE_URL", ""))
    if not config.get("MAIL_SERVER"):
        def to_log(message: OutboxMessage) -> None:
            log.info("mail (no MAIL_SERVER; kept in the outbox) to %s: %s\n%s",
                     message.to_addr, message.subject,
                     message.body_text.replace(SITE, base_url))
        return to_log

    def to_smtp(message: OutboxMessage) -> None:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)),
                          timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(build_email(message, sender, base_url))
    return to_smtp
