"""Who may do what with pricing (issue 15): rules registered with booking.permissions.rule.

Staff (coordinators and admins) read every establishment's price list; an
admin sets the prices of every establishment, a coordinator those of the
establishment they coordinate. Companies and trainers never see a price list:
a price is a 404 to them, the pages and the list a 403.

An establishment's billing profile and its machines' analytic codes: admins
edit them, the establishment's coordinators read them; anyone else gets a 404.
"""

from __future__ import annotations

from booking.permissions import coordinates, is_admin, is_staff, rule
from models import AnalyticCode, BillingProfile, Establishment, Price, User


@rule(Price, "view")
def view_price(user: User, price: object) -> bool:
    """Price lists: staff, every establishment's."""
    return is_staff(user)


@rule(Price, "set")
def set_prices(user: User, price: object) -> bool:
    """The class: whoever may set some establishment's prices (staff); a price:
    an admin, or a coordinator of its establishment."""
    if isinstance(price, type):
        return is_staff(user)
    assert isinstance(price, Price)
    return coordinates(user, price.establishment_id)


@rule(Establishment, "set_prices")
def set_prices_of(user: User, establishment: Establishment) -> bool:
    """Add (or withdraw) a price of this establishment: admins, its coordinators."""
    return coordinates(user, establishment.id)


@rule(BillingProfile, "view")
def view_profile(user: User, profile: object) -> bool:
    """The class: staff (the pages); a profile: admins, its establishment's coordinators."""
    if isinstance(profile, type):
        return is_staff(user)
    assert isinstance(profile, BillingProfile)
    return coordinates(user, profile.establishment_id)


@rule(BillingProfile, "edit")
def edit_profile(user: User, profile: object) -> bool:
    return is_admin(user)


@rule(Establishment, "view_billing")
def view_billing_of(user: User, establishment: Establishment) -> bool:
    """An establishment's billing profile and analytic codes (there may be no
    profile row yet): admins, its coordinators."""
    return coordinates(user, establishment.id)


@rule(Establishment, "edit_billing")
def edit_billing_of(user: User, establishment: Establishment) -> bool:
    return is_admin(user)


@rule(AnalyticCode, "edit")
def edit_analytic_code(user: User, code: object) -> bool:
    return is_admin(user)
