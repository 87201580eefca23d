"""The e-mails of quotes, through the outbox, each in its reader's language:
the issued quote to the company contact, the company's answer to the
project's coordinators (the issuer's and those of the project's machines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale
from sqlalchemy.orm import Session

from booking.labels import money
from booking.services.errors import N_
from booking.services.messaging.notifications import (
    SITE,
    coordinators_by_establishment,
    render,
    render_in,
)
from booking.services.messaging.outbox import Mail, enqueue
from models import Quote, QuoteStatus, User


@dataclass(frozen=True)
class Money:
    """An amount in cents, written in the reader's locale (« 1 234,50 € »)."""

    cents: int

    def shown_in(self, locale: Locale) -> str:
        return money(self.cents, locale)


ISSUED_SUBJECT = N_("Quote %(reference)s: %(title)s")
ISSUED_BODY = N_("%(establishment)s sends you the quote %(reference)s for the project "
                 "“%(title)s”: %(total)s including VAT, valid until %(valid_until)s.")
ISSUED_ACT = N_("Read it, download it as PDF, and accept or decline it on its page:")
REVISED_BODY = N_("This version %(version)d replaces the previous version of the quote.")

DECIDED = {
    QuoteStatus.ACCEPTED: (N_("Quote %(reference)s accepted: %(title)s"),
                           N_("%(company)s accepted the quote %(reference)s for the project "
                              "“%(title)s” (%(total)s including VAT). It now fixes the "
                              "project's price.")),
    QuoteStatus.DECLINED: (N_("Quote %(reference)s declined: %(title)s"),
                           N_("%(company)s declined the quote %(reference)s for the project "
                              "“%(title)s”.")),
}
REASON = N_("Their reason: %(reason)s")


def _params(quote: Quote) -> dict[str, Any]:
    project = quote.project
    return {"reference": quote.reference, "title": project.title,
            "company": project.company.name, "establishment": quote.establishment.name,
            "total": Money(quote.total_incl_cents), "valid_until": quote.valid_until,
            "version": quote.version}


def quote_issued(session: Session, quote: Quote, *, now: datetime) -> None:
    """Tell the project's contact (its requester when it names none), in the
    requester's language; once per issued quote."""
    project = quote.project
    requester = project.requested_by
    to = project.contact_email or (requester.email if requester and requester.active else "")
    if not to:
        return

    def say(template: str, **params: Any) -> str:
        if requester is not None:
            return render(requester, template, **params)
        return render_in("fr", template, **params)

    params = _params(quote)
    parts = [say(ISSUED_BODY, **params)]
    if quote.version > 1:
        parts.append(say(REVISED_BODY, **params))
    parts += [say(ISSUED_ACT), f"{SITE}/quotes/{quote.id}"]
    enqueue(session, Mail(to, say(ISSUED_SUBJECT, **params), "\n\n".join(parts)), now=now,
            dedupe_key=f"quote:{quote.id}:issued")


def coordinators_of_quote(session: Session, quote: Quote) -> list[User]:
    """The active coordinators of the issuer and of each of the project's machines."""
    establishments = {quote.establishment_id,
                      *(e.establishment_id for e in quote.project.equipment)}
    found = coordinators_by_establishment(session, establishments)
    people = {user.id: user for users in found.values() for user in users}
    return [people[key] for key in sorted(people)]


def quote_decided(session: Session, quote: Quote, *, now: datetime) -> int:
    """Tell the project's coordinators the company's answer; the number told."""
    subject, body = DECIDED[quote.status]
    params = _params(quote)
    people = coordinators_of_quote(session, quote)
    for person in people:
        parts = [render(person, body, **params)]
        if quote.decline_reason:
            parts.append(render(person, REASON, reason=quote.decline_reason))
        parts.append(f"{SITE}/quotes/{quote.id}")
        enqueue(session, Mail(person.email, render(person, subject, **params),
                              "\n\n".join(parts)), now=now,
                dedupe_key=f"quote:{quote.id}:{quote.status.value}:{person.id}")
    return len(people)
