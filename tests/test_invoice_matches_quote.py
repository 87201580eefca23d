"""Invoice lines add up to their accepted quote, to the cent (issue 15): the
quote computes VAT once per rate on the sum of its lines, the invoice line by
line, so the last line of each rate takes the difference."""

from __future__ import annotations

from booking.services.invoicing.lines import reconciled
from booking.services.quotes.totals import totals
from models import PriceKind, Quote, QuoteLine


def _quote(lines: list[tuple[int, int, int, int]], discount_bp: int = 0) -> Quote:
    quote = Quote(discount_bp=discount_bp)
    quote.lines = [QuoteLine(position=n, kind=PriceKind.CONSUMABLE, label=f"Ligne {n}",
                             quantity_cents=q, unit_price_cents=p, vat_rate_bp=v,
                             discount_bp=d)
                   for n, (q, p, v, d) in enumerate(lines, start=1)]
    return quote


def test_per_line_vat_rounding_is_reconciled_with_the_quote() -> None:
    # Three lines of 2 cents at 20 %: 0 cent of VAT each line by line, 1 cent on the sum.
    quote = _quote([(100, 2, 2000, 0)] * 3)
    amounts = reconciled(quote)
    assert [a.vat_cents for a in amounts] == [0, 0, 1]
    expected = totals(quote.lines, quote.discount_bp)
    assert sum(a.excl_cents for a in amounts) == expected.excl_cents == 6
    assert sum(a.vat_cents for a in amounts) == expected.vat_cents == 1
    assert sum(a.incl_cents for a in amounts) == expected.incl_cents == 7


def test_each_rate_is_reconciled_on_its_own_lines() -> None:
    quote = _quote([(150, 3333, 2000, 500), (100, 5, 550, 0), (100, 5, 550, 0),
                    (333, 1999, 2000, 0), (100, 5, 550, 0)], discount_bp=700)
    amounts = reconciled(quote)
    expected = totals(quote.lines, quote.discount_bp)
    for rate in (2000, 550):
        assert sum(a.vat_cents for a, line in zip(amounts, quote.lines, strict=True)
                   if line.vat_rate_bp == rate) == next(
            v.vat_cents for v in expected.vat if v.rate_bp == rate)
    assert sum(a.incl_cents for a in amounts) == expected.incl_cents


def test_nothing_moves_when_the_lines_already_agree() -> None:
    quote = _quote([(700, 18000, 2000, 0), (1400, 7500, 2000, 0)])
    assert [a.vat_cents for a in reconciled(quote)] == [25200, 21000]
