"""A quote's totals, in exact integers (cents, basis points, hundredths).

Per line: the gross amount is ``quantity × unit price`` (the quantity in
hundredths, so divided by 100) rounded half up to the cent; the line's
discount is taken off it, then the whole quote's discount, each rounded half
up to the cent: the line's amount excluding VAT. VAT is computed once per
rate, on the sum of the amounts at that rate (rounded half up), and the total
including VAT is the total excluding VAT plus each rate's VAT. The same
integers on SQLite and PostgreSQL, on a page, in the PDF and in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class LineLike(Protocol):
    quantity_cents: int
    unit_price_cents: int
    vat_rate_bp: int
    discount_bp: int


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away
    from zero (2.5 → 3, -2.5 → -3); exact for any integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def percent_of(cents: int, basis_points: int) -> int:
    """``basis_points`` of ``cents`` (1000 bp = 10 %), rounded half up."""
    return round_half_up(cents * basis_points, 10000)


@dataclass(frozen=True)
class LineAmount:
    gross_cents: int  # quantity × unit price
    line_discount_cents: int
    quote_discount_cents: int
    excl_cents: int  # what the line adds to the total excluding VAT


@dataclass(frozen=True)
class VatAmount:
    rate_bp: int
    base_cents: int
    vat_cents: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmount, ...]
    gross_cents: int
    discount_cents: int  # line and quote discounts together
    excl_cents: int
    vat: tuple[VatAmount, ...]  # by rate, highest first
    vat_cents: int
    incl_cents: int


def line_amount(line: LineLike, quote_discount_bp: int = 0) -> LineAmount:
    gross = round_half_up(line.quantity_cents * line.unit_price_cents, 100)
    line_discount = percent_of(gross, line.discount_bp)
    net = gross - line_discount
    quote_discount = percent_of(net, quote_discount_bp)
    return LineAmount(gross, line_discount, quote_discount, net - quote_discount)


def totals(lines: Iterable[LineLike], quote_discount_bp: int = 0) -> Totals:
    """The totals of ``lines`` with the whole quote's discount."""
    listed = list(lines)
    amounts = tuple(line_amount(line, quote_discount_bp) for line in listed)
    bases: dict[int, int] = {}
    for line, amount in zip(listed, amounts, strict=True):
        bases[line.vat_rate_bp] = bases.get(line.vat_rate_bp, 0) + amount.excl_cents
    vat = tuple(VatAmount(rate, base, percent_of(base, rate))
                for rate, base in sorted(bases.items(), reverse=True))
    excl = sum(a.excl_cents for a in amounts)
    vat_total = sum(v.vat_cents for v in vat)
    return Totals(
        lines=amounts, gross_cents=sum(a.gross_cents for a in amounts),
        discount_cents=sum(a.line_discount_cents + a.quote_discount_cents for a in amounts),
        excl_cents=excl, vat=vat, vat_cents=vat_total, incl_cents=excl + vat_total)


def quote_totals(quote: object) -> Totals:
    """The totals of a quote's lines (``quote.lines``, ``quote.discount_bp``)."""
    return totals(quote.lines, quote.discount_bp)  # type: ignore[attr-defined]


def refresh_totals(quote: object) -> None:
    """Store the quote's totals (kept current on a draft, frozen at issue)."""
    found = quote_totals(quote)
    quote.total_excl_cents = found.excl_cents  # type: ignore[attr-defined]
    quote.vat_cents = found.vat_cents  # type: ignore[attr-defined]
    quote.total_incl_cents = found.incl_cents  # type: ignore[attr-defined]
