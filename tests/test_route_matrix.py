"""Every route × every role: the answer of each, from one table.

The table below has one row per method and endpoint of ``app.url_map`` (static
files aside) and one column per person of tests/world.py: a route added
without its row fails :func:`test_every_route_has_a_row`, and a rule that
changes who may do what fails :func:`test_route_role_matrix` until the table
says so.

Each request points at a real object of the world (the booking, the machine,
company A's project, the trainer's feed...). Pages are fetched with GET; a
POST, PATCH or DELETE is sent as every person too (pages with CSRF off and an
empty form, the API with a valid body), inside a savepoint undone afterwards:
where the table says it is refused, every table must be as it was before.
:func:`test_pages_refuse_a_post_without_csrf_token` then sends each page's
POST with CSRF on and no token, as someone allowed: 400, nothing written.

Cells: a status code, or ``L`` for the redirect to the login page (302 to
/auth/login?next=…) that a page answers to anonymous visitors.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from tests.world import (
    ROLES,
    World,
    WriteWatch,
    bearer,
    build_world,
    changed_tables,
    fingerprint,
    logged_in,
    undone,
)

# The columns, in the order of tests/world.py ROLES.
HEADER = "anon admin coord ocoord trainer otrainer company ocompany"
REFUSED = {"L", "400", "401", "403", "404", "405"}
UNSAFE = ("POST", "PATCH", "PUT", "DELETE")

# fmt: off
MATRIX: dict[str, str] = {
    # method endpoint                                anon adm coo oco tra otr com oco
    # --- pages: public, authentication, dashboard
    "GET main.index":                               "302 302 302 302 302 302 302 302",
    "GET main.healthz":                             "200 200 200 200 200 200 200 200",
    "POST main.set_language":                       "302 302 302 302 302 302 302 302",
    "GET main.dashboard":                           "L   200 200 200 200 200 200 200",
    "POST main.claim_offer":                        "L   403 403 404 302 404 404 404",
    "GET main.waitlist":                            "L   200 200 200 200 200 200 200",
    "POST main.leave_waitlist":                     "L   403 403 404 302 404 404 404",
    "GET auth.login":                               "200 302 302 302 302 302 302 302",
    "POST auth.login":                              "200 302 302 302 302 302 302 302",
    "POST auth.logout":                             "L   302 302 302 302 302 302 302",
    "GET auth.password":                            "L   200 200 200 200 200 200 200",
    "POST auth.password":                           "L   200 200 200 200 200 200 200",
    "GET invitations.invite":                       "L   200 200 200 403 403 200 200",
    "POST invitations.invite":                      "L   200 200 200 403 403 200 200",
    # sign-in through an establishment's provider (the world's LDAP directory,
    # which never answers: the form is ours; a callback without an answer is refused)
    "GET sso.login":                                "200 200 200 200 200 200 200 200",
    "POST sso.login":                               "200 200 200 200 200 200 200 200",
    "GET sso.callback":                             "400 400 400 400 400 400 400 400",
    "POST sso.callback":                            "400 400 400 400 400 400 400 400",
    "GET sso.metadata":                             "404 404 404 404 404 404 404 404",
    "GET sso.choose":                               "200 200 200 200 200 200 200 200",
    "GET sso.establishment":                        "200 200 200 200 200 200 200 200",
    "GET auth.leaving":                             "302 302 302 302 302 302 302 302",
    "GET links.forgot":                             "200 200 200 200 200 200 200 200",
    "POST links.forgot":                            "200 200 200 200 200 200 200 200",
    "GET links.use":                                "200 200 200 200 200 200 200 200",
    "POST links.use":                               "200 200 200 200 200 200 200 200",
    # --- own account: integration tokens (the trainer's; others' are 404)
    "GET account.tokens":                           "L   200 404 404 200 404 404 404",
    "POST account.tokens":                          "L   200 404 404 200 404 404 404",
    "POST account.token_revoke":                    "L   302 404 404 302 404 404 404",
    "GET account.preferences":                      "L   200 200 200 200 200 200 200",
    "POST account.preferences":                     "L   302 302 302 302 302 302 302",
    "GET ical.feed":                                "200 200 200 200 200 200 200 200",
    # --- equipment and sites
    "GET equipment.catalogue":                      "L   200 200 200 200 200 200 200",
    "GET equipment.page":                           "L   200 200 200 200 200 200 200",
    "GET sites.index":                              "L   200 200 200 200 200 200 200",
    "GET sites.calendar":                           "L   200 200 200 200 200 200 200",
    "GET planning.search":                          "L   200 200 200 200 200 200 200",
    # --- equipment documents (the machine's safety instructions)
    "GET documents.index":                          "L   200 200 200 200 200 200 200",
    "POST documents.upload":                        "L   200 200 403 403 403 403 403",
    "GET documents.download":                       "L   200 200 200 200 200 200 200",
    "GET documents.delete":                         "L   200 200 403 403 403 403 403",
    "POST documents.delete":                        "L   302 302 403 403 403 403 403",
    "POST documents.mark":                          "L   302 302 403 403 403 403 403",
    # --- bookings (the booking: trainer's, of company A's project, pending)
    "GET bookings.mine":                            "L   200 200 200 200 200 200 200",
    "GET bookings.new":                             "L   200 200 200 200 200 200 200",
    "POST bookings.new":                            "L   200 200 200 200 200 200 200",
    "GET bookings.show":                            "L   200 200 200 200 200 200 404",
    "GET bookings.ics":                             "L   200 200 200 200 200 200 404",
    "GET bookings.cancel":                          "L   200 200 403 200 403 403 404",
    "POST bookings.cancel":                         "L   302 302 403 302 403 403 404",
    "GET bookings.move":                            "L   200 200 403 200 403 403 404",
    "POST bookings.move":                           "L   200 200 403 200 403 403 404",
    "GET exports.export_csv":                       "L   200 200 200 200 200 200 200",
    "GET exports.export_ics":                       "L   200 200 200 200 200 200 200",
    "GET exports.export_xlsx":                      "L   200 200 200 200 200 200 200",
    # --- calendar feeds (the feed: trainer's agenda)
    "GET calendars.feeds":                          "L   200 200 200 200 200 200 200",
    "POST calendars.create":                        "L   200 200 200 200 200 200 200",
    "GET calendars.regenerate":                     "L   200 404 404 200 404 404 404",
    "POST calendars.regenerate":                    "L   302 404 404 302 404 404 404",
    "GET calendars.revoke":                         "L   200 404 404 200 404 404 404",
    "POST calendars.revoke":                        "L   302 404 404 302 404 404 404",
    # --- certifications (trainer's; other_trainer's open request)
    "GET certifications.index":                     "L   200 200 200 403 403 403 403",
    "POST certifications.grant":                    "L   200 200 200 403 403 403 403",
    "GET certifications.renew":                     "L   200 200 200 403 403 403 403",
    "POST certifications.renew":                    "L   302 302 302 403 403 403 403",
    "GET certifications.revoke":                    "L   200 200 200 403 403 403 403",
    "POST certifications.revoke":                   "L   302 302 302 403 403 403 403",
    "POST certifications.request":                  "L   403 403 403 302 302 403 403",
    "POST certifications.grant_request":            "L   302 302 302 403 403 403 403",
    "POST certifications.decline_request":          "L   302 302 302 403 403 403 403",
    # --- coordination (the home establishment's coordinator)
    "GET coordination.queue":                       "L   200 200 200 403 403 403 403",
    "GET inbox.index":                              "L   200 200 200 403 403 403 403",
    # the world's closure does not fall on its booking: refused with a flash, nothing written
    "POST inbox.notify":                             "L   302 302 403 403 403 403 403",
    "POST inbox.cancel":                             "L   302 302 403 403 403 403 403",
    "POST coordination.approve":                    "L   302 302 403 403 403 403 403",
    "GET coordination.reject":                      "L   200 200 403 403 403 403 403",
    "POST coordination.reject":                     "L   200 200 403 403 403 403 403",
    "GET coordination.closures":                    "L   200 200 200 403 403 403 403",
    "POST coordination.closures":                   "L   200 200 200 403 403 403 403",
    "GET coordination.delete":                      "L   200 200 403 403 403 403 403",
    "POST coordination.delete":                     "L   302 302 403 403 403 403 403",
    "GET coordination.equipment":                   "L   200 200 200 403 403 403 403",
    "GET coordination.edit_equipment":              "L   200 200 403 403 403 403 403",
    "POST coordination.edit_equipment":             "L   200 200 403 403 403 403 403",
    "GET imports.upload":                           "L   200 200 200 403 403 403 403",
    "POST imports.upload":                          "L   200 200 200 403 403 403 403",
    "GET onboarding.upload":                        "L   200 200 200 403 403 403 403",
    "POST onboarding.upload":                       "L   200 200 200 403 403 403 403",
    "POST onboarding.confirm":                      "L   400 400 400 403 403 403 403",
    "GET onboarding.template":                      "L   200 200 200 403 403 403 403",
    "GET jobs.index":                               "L   200 200 200 403 403 403 403",
    "POST jobs.run_now":                            "L   302 403 403 403 403 403 403",
    "GET reports.utilisation":                      "L   200 200 200 403 403 403 403",
    "GET reports.csv":                              "L   200 200 200 403 403 403 403",
    "GET reports.xlsx":                             "L   200 200 200 403 403 403 403",
    "GET reports.usage_csv":                        "L   200 200 200 403 403 403 403",
    # --- quotas (the world's quota on the machine, for the other establishments)
    "GET quotas.mine":                              "L   200 200 200 200 200 200 200",
    "GET quotas.manage":                            "L   200 200 200 403 403 403 403",
    "POST quotas.manage":                           "L   200 200 200 403 403 403 403",
    "GET quotas.edit":                              "L   200 200 403 403 403 403 403",
    "POST quotas.edit":                             "L   200 200 403 403 403 403 403",
    "GET quotas.delete":                            "L   200 200 403 403 403 403 403",
    "POST quotas.delete":                           "L   302 302 403 403 403 403 403",
    "GET quotas.shares":                            "L   200 200 200 403 403 403 403",
    # --- check-in at the machine (the booking is pending: refused with a flash) and
    # the trainer's incident on the machine (the reporter reads; the owner acts)
    "GET checkin.machine":                          "L   200 200 200 200 200 200 200",
    "POST checkin.check_in":                        "L   302 302 403 302 403 403 404",
    "POST checkin.check_out":                       "L   302 302 403 302 403 403 404",
    "GET checkin.incident":                         "L   200 200 404 200 404 404 404",
    "POST checkin.maintenance":                     "L   200 200 404 403 404 404 404",
    "POST checkin.resolve":                         "L   302 302 404 403 404 404 404",
    # --- kiosk screens (the home coordinator's link of the home site) and QR labels
    "GET kiosk.screen":                             "200 200 200 200 200 200 200 200",
    "GET kiosk.manage":                             "L   200 200 200 403 403 403 403",
    "POST kiosk.create":                            "L   200 200 200 403 403 403 403",
    "GET kiosk.revoke":                             "L   200 200 404 403 403 403 403",
    "POST kiosk.revoke":                            "L   302 302 404 403 403 403 403",
    "GET kiosk.label":                              "L   200 200 403 403 403 403 403",
    "GET kiosk.sheet":                              "L   200 200 403 403 403 403 403",
    # --- history (audit entries): those who manage the object
    "GET history.booking":                          "L   200 200 403 403 403 403 404",
    "GET history.equipment":                        "L   200 200 403 403 403 403 403",
    "GET history.project":                          "L   200 200 200 403 404 403 404",
    # --- projects (company A's, approved, trained by trainer)
    "GET projects.mine":                            "L   302 302 302 200 200 200 200",
    "GET projects.review":                          "L   200 200 200 403 403 403 403",
    "GET projects.new":                             "L   403 403 403 403 403 200 200",
    "POST projects.new":                            "L   403 403 403 403 403 200 200",
    "GET projects.show":                            "L   200 200 200 200 404 200 404",
    "POST projects.approve":                        "L   200 200 200 403 404 403 404",
    "GET projects.reject":                          "L   200 200 200 403 404 403 404",
    "POST projects.reject":                         "L   200 200 200 403 404 403 404",
    "GET projects.cancel":                          "L   200 200 200 403 404 200 404",
    "POST projects.cancel":                         "L   200 200 200 403 404 200 404",
    # --- administration (admins only)
    "GET admin.index":                              "L   200 403 403 403 403 403 403",
    "GET admin.establishments":                     "L   200 403 403 403 403 403 403",
    "GET admin.establishment_new":                  "L   200 403 403 403 403 403 403",
    "POST admin.establishment_new":                 "L   200 403 403 403 403 403 403",
    "GET admin.establishment_edit":                 "L   200 403 403 403 403 403 403",
    "POST admin.establishment_edit":                "L   200 403 403 403 403 403 403",
    "GET admin.equipment_list":                     "L   200 403 403 403 403 403 403",
    "GET admin.equipment_new":                      "L   200 403 403 403 403 403 403",
    "POST admin.equipment_new":                     "L   200 403 403 403 403 403 403",
    "GET admin.equipment_edit":                     "L   200 403 403 403 403 403 403",
    "POST admin.equipment_edit":                    "L   200 403 403 403 403 403 403",
    "GET admin.certification_types":                "L   200 403 403 403 403 403 403",
    "GET admin.certification_type_new":             "L   200 403 403 403 403 403 403",
    "POST admin.certification_type_new":            "L   200 403 403 403 403 403 403",
    "GET admin.accounts_list":                      "L   200 403 403 403 403 403 403",
    "GET admin.account_new":                        "L   200 403 403 403 403 403 403",
    "POST admin.account_new":                       "L   200 403 403 403 403 403 403",
    "GET admin.account_password":                   "L   200 403 403 403 403 403 403",
    "POST admin.account_password":                  "L   200 403 403 403 403 403 403",
    "GET admin.account_deactivate":                 "L   200 403 403 403 403 403 403",
    "POST admin.account_deactivate":                "L   302 403 403 403 403 403 403",
    "GET admin.account_reactivate":                 "L   200 403 403 403 403 403 403",
    "POST admin.account_reactivate":                "L   200 403 403 403 403 403 403",
    "GET admin.account_identities":                 "L   200 403 403 403 403 403 403",
    "POST admin.account_identities":                "L   200 403 403 403 403 403 403",
    "POST admin.identity_link_remove":              "L   302 403 403 403 403 403 403",
    # --- administration: the establishments' identity providers (the world's CAS)
    "GET admin.providers":                          "L   200 403 403 403 403 403 403",
    "GET admin.provider_new":                       "L   200 403 403 403 403 403 403",
    "POST admin.provider_new":                      "L   200 403 403 403 403 403 403",
    "GET admin.provider_edit":                      "L   200 403 403 403 403 403 403",
    "POST admin.provider_edit":                     "L   200 403 403 403 403 403 403",
    "GET admin.provider_delete":                    "L   200 403 403 403 403 403 403",
    "POST admin.provider_delete":                   "L   302 403 403 403 403 403 403",
    # an empty form: refused with a flash, nothing written
    "POST admin.local_passwords":                   "L   302 403 403 403 403 403 403",
    # --- administration: travel times between establishments (an empty form: 200)
    "GET admin.travel_times":                       "L   200 403 403 403 403 403 403",
    "POST admin.travel_default":                    "L   200 403 403 403 403 403 403",
    "POST admin.travel_pair":                       "L   200 403 403 403 403 403 403",
    "POST admin.travel_clear":                      "L   200 403 403 403 403 403 403",
    # --- API: documents and tokens
    "GET api-docs.openapi_json":                    "200 200 200 200 200 200 200 200",
    "GET api-pages.docs":                           "200 200 200 200 200 200 200 200",
    "POST auth-tokens.create_token":                "201 201 201 201 201 201 201 201",
    "DELETE auth-tokens.delete_current_token":      "401 204 204 204 204 204 204 204",
    # --- API: directory
    "GET Establishments.list_establishments":       "401 200 200 200 200 200 200 200",
    "POST Establishments.create_establishment":     "401 201 403 403 403 403 403 403",
    "GET Establishments.get_establishment":         "401 200 200 200 200 200 200 200",
    "PATCH Establishments.update_establishment":    "401 200 403 403 403 403 403 403",
    "GET Companies.list_companies":                 "401 200 200 200 403 403 403 403",
    "POST Companies.create_company":                "401 201 201 201 403 403 403 403",
    "GET certification-types.list_certification_types": "401 200 200 200 200 200 200 200",
    "POST certification-types.create_certification_type": "401 201 403 403 403 403 403 403",
    "GET Users.list_users":                         "401 200 200 200 403 403 403 403",
    "POST Users.create_user":                       "401 201 403 403 403 403 403 403",
    "GET Users.get_user":                           "401 200 200 200 200 404 404 404",
    "GET Certifications.list_certifications":       "401 200 200 200 200 404 404 404",
    "POST Certifications.grant_certification":      "401 201 201 201 403 404 404 404",
    "DELETE Certifications.revoke_certification":   "401 204 204 204 403 404 404 404",
    "GET Closures.list_closures":                   "401 200 200 200 403 403 403 403",
    "POST Closures.create_closure":                 "401 201 201 403 403 403 403 403",
    "DELETE Closures.delete_closure":               "401 204 204 403 403 403 403 403",
    # --- API: equipment
    "GET Equipment.list_equipment":                 "401 200 200 200 200 200 200 200",
    "POST Equipment.post_equipment":                "401 201 201 403 403 403 403 403",
    "GET Equipment.get_equipment":                  "401 200 200 200 200 200 200 200",
    "PATCH Equipment.patch_equipment":              "401 200 200 403 403 403 403 403",
    "GET Equipment.get_availability":               "401 200 200 200 200 200 200 200",
    "GET Equipment.list_documents":                 "401 200 200 200 200 200 200 200",
    "GET Slots.list_slots":                         "401 200 200 200 200 200 200 200",
    # --- API: bookings
    "GET Bookings.list_bookings":                   "401 200 200 200 200 200 200 200",
    "POST Bookings.post_booking":                   "401 403 403 403 201 403 422 422",
    "GET Bookings.get_booking":                     "401 200 200 200 200 200 200 404",
    "PATCH Bookings.patch_booking":                 "401 200 200 403 200 403 403 404",
    "POST Bookings.cancel":                         "401 200 200 403 200 403 403 404",
    "POST Bookings.approve":                        "401 200 200 403 403 403 403 404",
    "POST Bookings.reject":                         "401 200 200 403 403 403 403 404",
    # --- API: projects, feeds, reports
    "GET Projects.list_projects":                   "401 200 200 200 200 200 200 200",
    "POST Projects.request_project":                "401 403 403 403 403 403 201 201",
    "GET Projects.get_project":                     "401 200 200 200 200 404 200 404",
    "POST Projects.approve_project":                "401 409 409 409 403 404 403 404",
    "POST Projects.reject_project":                 "401 409 409 409 403 404 403 404",
    "POST Projects.cancel_project":                 "401 200 200 403 403 404 403 404",
    "GET IntegrationTokens.list_integration_tokens": "401 200 404 404 200 404 404 404",
    "POST IntegrationTokens.post_integration_token": "401 201 404 404 201 404 404 404",
    "DELETE IntegrationTokens.delete_integration_token": "401 204 404 404 204 404 404 404",
    "GET Feeds.list_feeds":                         "401 200 200 200 200 200 200 200",
    "POST Feeds.create_feed":                       "401 201 201 201 201 201 404 404",
    "POST Feeds.regenerate_feed":                   "401 200 404 404 200 404 404 404",
    "DELETE Feeds.delete_feed":                     "401 204 404 404 204 404 404 404",
    "GET Reports.get_utilisation":                  "401 200 200 200 403 403 403 403",
    # --- API: bulk onboarding (a JSON body, not the multipart file: 422)
    "POST Onboarding.post_accounts":                "401 422 422 422 403 403 403 403",
    "POST Onboarding.post_equipment":               "401 422 422 422 403 403 403 403",
    "POST Onboarding.post_certifications":          "401 422 422 422 403 403 403 403",
    "GET Onboarding.accounts_template":             "401 200 200 200 403 403 403 403",
    "GET Onboarding.equipment_template":            "401 200 200 200 403 403 403 403",
    "GET Onboarding.certifications_template":       "401 200 200 200 403 403 403 403",
    # --- API: identity providers and links (admins only)
    "GET IdentityProviders.list_identity_providers": "401 200 403 403 403 403 403 403",
    "POST IdentityProviders.create_identity_provider": "401 201 403 403 403 403 403 403",
    "GET IdentityProviders.get_identity_provider":  "401 200 403 403 403 403 403 403",
    "PATCH IdentityProviders.update_identity_provider": "401 200 403 403 403 403 403 403",
    "DELETE IdentityProviders.delete_identity_provider": "401 204 403 403 403 403 403 403",
    "GET IdentityProviders.list_identity_links":    "401 200 403 403 403 403 403 403",
    "POST IdentityProviders.create_identity_link":  "401 201 403 403 403 403 403 403",
    "DELETE IdentityProviders.delete_identity_link": "401 204 403 403 403 403 403 403",
    # --- API: travel times between establishments (all read, admins write)
    "GET TravelTimes.list_travel_times":            "401 200 200 200 200 200 200 200",
    "PUT TravelTimes.put_travel_time":              "401 200 403 403 403 403 403 403",
    "DELETE TravelTimes.delete_travel_time":        "401 204 403 403 403 403 403 403",
    "PATCH TravelTimes.patch_default":              "401 200 403 403 403 403 403 403",
    # --- API: quotas (all read those that apply to them; the owner's coordinators write)
    "GET Quotas.list_quotas":                       "401 200 200 200 200 200 200 200",
    "POST Quotas.create_quota":                     "401 201 201 403 403 403 403 403",
    "GET Quotas.get_quota":                         "401 200 200 200 404 404 404 404",
    "PATCH Quotas.update_quota":                    "401 200 200 403 403 403 403 403",
    "DELETE Quotas.delete_quota":                   "401 204 204 403 403 403 403 403",
    # --- API: the waiting list (trainer's offer; the join names the booked slot)
    "GET Waitlist.list_entries":                    "401 200 200 200 200 200 200 200",
    "POST Waitlist.join":                           "401 403 403 403 201 403 422 422",
    "DELETE Waitlist.leave":                        "401 403 403 404 204 404 404 404",
    "POST Waitlist.claim":                          "401 403 403 404 201 404 404 404",
    # --- API: check-in at the machine (the booking is pending: those allowed get 409)
    "POST CheckIn.check_in":                        "401 409 409 403 409 403 403 404",
    "POST CheckIn.check_out":                       "401 409 409 403 409 403 403 404",
    # --- issue 15: price lists (staff read; an admin or the establishment's
    # coordinator sets), billing profiles (an admin edits, the establishment's
    # coordinators read); the world's price is not in force yet, so it is withdrawn
    "GET pricing.index":                            "L   200 200 200 403 403 403 403",
    "POST pricing.add":                             "L   200 200 403 403 403 403 403",
    "POST pricing.withdraw":                        "L   302 302 403 404 404 404 404",
    "GET pricing.profile":                          "L   200 200 403 403 403 403 403",
    "POST pricing.profile":                         "L   302 403 403 403 403 403 403",
    "GET pricing.analytic_code":                    "L   200 403 403 403 403 403 403",
    "POST pricing.analytic_code":                   "L   302 403 403 403 403 403 403",
    "GET Prices.list_prices":                       "401 200 200 200 403 403 403 403",
    "POST Prices.add_price":                        "401 201 201 403 403 403 403 403",
    "DELETE Prices.withdraw_price":                 "401 204 204 403 404 404 404 404",
    "GET BillingProfiles.get_billing_profile":      "401 200 200 403 403 403 403 403",
    "PUT BillingProfiles.put_billing_profile":      "401 200 403 403 403 403 403 403",
    # --- quotes (an issued quote of company A's requested project « Parfums », by the
    # home establishment; the world's project has its quote accepted: no other draft)
    "GET quotes.index":                             "L   200 200 200 403 403 200 200",
    "GET quotes.show":                              "L   200 200 404 404 404 200 404",
    "GET quotes.pdf":                               "L   200 200 404 404 404 200 404",
    "GET quotes.new":                               "L   200 200 200 403 404 403 404",
    "POST quotes.new":                              "L   200 200 200 403 404 403 404",
    "POST quotes.add_line":                         "L   200 200 404 404 404 403 404",
    "POST quotes.update_line":                      "L   200 200 404 404 404 403 404",
    "POST quotes.remove_line":                      "L   302 302 404 404 404 403 404",
    "POST quotes.settings":                         "L   200 200 404 404 404 403 404",
    "POST quotes.issue":                            "L   302 302 404 404 404 403 404",
    "POST quotes.revise":                           "L   302 302 404 404 404 403 404",
    "GET quotes.accept":                            "L   403 403 404 404 404 200 404",
    "POST quotes.accept":                           "L   403 403 404 404 404 302 404",
    "GET quotes.decline":                           "L   403 403 404 404 404 200 404",
    "POST quotes.decline":                          "L   403 403 404 404 404 200 404",
    "GET Quotes.list_quotes":                       "401 200 200 200 200 200 200 200",
    "GET Quotes.get_quote":                         "401 200 200 404 404 404 200 404",
    "POST Quotes.draft_quote":                      "401 409 409 409 403 404 403 404",
    "PUT Quotes.update_quote":                      "401 409 409 404 404 404 403 404",
    "POST Quotes.issue_quote":                      "401 409 409 404 404 404 403 404",
    "POST Quotes.revise_quote":                     "401 201 201 404 404 404 403 404",
    "POST Quotes.accept_quote":                     "401 403 403 404 404 404 200 404",
    "POST Quotes.decline_quote":                    "401 403 403 404 404 404 200 404",
    # --- invoicing lines (staff of the issuing establishment of the accepted quote;
    # the world's project is not completed: 409)
    "GET invoicing.index":                          "L   200 200 200 403 403 403 403",
    "GET invoicing.project_csv":                    "L   409 409 403 403 404 403 404",
    "GET invoicing.project_xlsx":                   "L   409 409 403 403 404 403 404",
    "GET invoicing.period_csv":                     "L   400 400 400 403 403 403 403",
    "GET invoicing.period_xlsx":                    "L   400 400 400 403 403 403 403",
    "GET Invoicing.project_invoice_lines":          "401 409 409 403 403 404 403 404",
    "GET Invoicing.period_invoice_lines":           "401 422 422 422 403 403 403 403",
    # --- the campus's evaluation (aggregates: staff)
    "GET evaluation.index":                         "L   200 200 200 403 403 403 403",
    "GET evaluation.export_csv":                    "L   200 200 200 403 403 403 403",
    "GET evaluation.export_xlsx":                   "L   200 200 200 403 403 403 403",
    "GET Evaluation.get_evaluation":                "401 200 200 200 403 403 403 403",
    # --- satisfaction (the world's survey link is unknown: 404 to everyone)
    "GET satisfaction.survey":                      "404 404 404 404 404 404 404 404",
    "POST satisfaction.survey":                     "404 404 404 404 404 404 404 404",
    "POST satisfaction.send":                       "L   302 302 302 403 404 403 404",
    "GET satisfaction.index":                       "L   200 200 200 403 403 403 403",
    "GET satisfaction.export_csv":                  "L   200 200 200 403 403 403 403",
    "GET Satisfaction.get_project_satisfaction":    "401 200 200 200 403 404 200 404",
    "POST Satisfaction.send_project_surveys":       "401 409 409 409 403 404 403 404",
    "GET Satisfaction.get_satisfaction":            "401 200 200 200 403 403 403 403",
    # --- training agreements (company A's project: waived, accepted quote, agreement to sign)
    "GET agreements.generate":                      "L   200 200 200 403 404 403 404",
    "POST agreements.generate":                     "L   200 200 200 403 404 403 404",
    "GET agreements.pdf":                           "L   200 200 200 404 404 200 404",
    "POST agreements.upload_signed":                "L   302 302 403 404 404 302 404",
    "GET agreements.signed":                        "L   404 404 404 404 404 404 404",
    "GET agreements.waive":                         "L   200 200 200 403 404 403 404",
    "POST agreements.waive":                        "L   200 200 200 403 404 403 404",
    "POST agreements.lift_waiver":                  "L   302 302 302 403 404 403 404",
    # --- API: the training agreement (under the project)
    "GET Agreements.get_agreement":                 "401 200 200 200 403 404 200 404",
    "POST Agreements.generate_agreement":           "401 201 201 403 403 404 403 404",
    "GET Agreements.agreement_pdf":                 "401 200 200 200 403 404 200 404",
    "POST Agreements.record_signed":                "401 422 422 422 422 422 422 422",
    "GET Agreements.signed_scan":                   "401 404 404 404 403 404 404 404",
    "POST Agreements.waive":                        "401 409 409 409 403 404 403 404",
    "DELETE Agreements.lift_waiver":                "401 204 204 204 403 404 403 404",
    # --- learners and attendance (a learner and a sheet of company A's project)
    "DELETE Attendance.erase_learner":              "401 200 200 200 403 404 200 404",
    "GET Attendance.list_learners":                 "401 200 200 200 200 404 200 404",
    "GET Attendance.session_attendance":            "401 200 200 200 200 403 200 404",
    "GET attendance.certificate_pdf":               "L   200 200 200 403 404 200 404",
    "GET attendance.edit_learner":                  "L   200 200 200 403 404 200 404",
    "GET attendance.project_sheets_pdf":            "L   200 200 200 403 404 200 404",
    "GET attendance.session":                       "L   200 200 200 200 403 403 404",
    "GET attendance.session_sheets_pdf":            "L   200 200 200 403 403 200 404",
    "GET attendance.sheet":                         "L   200 200 200 200 404 200 404",
    "POST Attendance.add_learner":                  "401 201 201 201 403 404 201 404",
    "POST Attendance.countersign":                  "401 403 403 403 403 404 409 404",
    "POST Attendance.sign":                         "401 409 409 409 409 404 403 404",
    "POST attendance.add_learner":                  "L   200 200 200 403 404 200 404",
    "POST attendance.countersign":                  "L   403 403 403 403 404 200 404",
    "POST attendance.edit_learner":                 "L   200 200 200 403 404 200 404",
    "POST attendance.erase_learner":                "L   302 302 302 403 404 302 404",
    "POST attendance.record_marks":                 "L   200 200 200 200 404 403 404",
    "POST attendance.remove_learner":               "L   302 302 302 403 404 302 404",
    "POST attendance.sign":                         "L   200 200 200 200 404 403 404",
    "PUT Attendance.put_marks":                     "401 409 409 409 409 404 403 404",
    "PUT Attendance.update_learner":                "401 200 200 200 403 404 200 404",
}
# fmt: on


def query_strings(w: World) -> dict[str, str]:
    """What a GET needs beyond its URL to mean something."""
    week = "from=" + quote("2027-01-11T00:00:00+01:00") + "&to=" + quote(
        "2027-01-18T00:00:00+01:00")
    return {
        "Equipment.get_availability": "?" + week,
        "Slots.list_slots": "?" + week + f"&minutes=60&equipment_id={w.ids['equipment_id']}",
        "planning.search": f"?equipment={w.ids['equipment_id']}&free_from=2027-01-13",
        "Reports.get_utilisation": "?from=2027-01-01&to=2027-02-01",
        "admin.equipment_new": f"?establishment={w.ids['establishment_id']}",
        "admin.provider_new": "?kind=cas",
        "Prices.list_prices": f"?establishment_id={w.ids['establishment_id']}",
        "TravelTimes.delete_travel_time": f"?establishment_a_id={w.ids['establishment_id']}"
                                          f"&establishment_b_id={w.ids['away_id']}",
    }


def api_bodies(w: World) -> dict[str, Any]:
    """A valid body for each API write, so that only the permission decides."""
    ids = w.ids
    return {
        "auth-tokens.create_token": {"email": w["trainer"].email, "password": PASSWORD},
        "Bookings.post_booking": {"equipment_id": ids["equipment_id"],
                                  "start": "2027-01-14T10:00:00+01:00",
                                  "end": "2027-01-14T11:00:00+01:00", "title": "Séance"},
        "Bookings.patch_booking": {"title": "Renommée"},
        "Bookings.cancel": {"reason": "Annulée"},
        "Bookings.approve": {"reason": "Oui"},
        "Bookings.reject": {"reason": "Non"},
        "certification-types.create_certification_type": {"code": "NEW", "name": "Nouveau"},
        "Closures.create_closure": {"establishment_id": ids["establishment_id"],
                                    "start": "2027-03-01T08:00:00+01:00",
                                    "end": "2027-03-01T18:00:00+01:00", "reason": "Travaux"},
        "Companies.create_company": {"name": "Nouvelle"},
        "Equipment.post_equipment": {"code": "NEW-1", "name": "Neuf", "category": "other",
                                     "establishment_id": ids["establishment_id"]},
        "Equipment.patch_equipment": {"name": "Renommé"},
        "Establishments.create_establishment": {"code": "NEW", "name": "Nouveau",
                                                "city": "Blois", "department": "41",
                                                "kind": "lycee"},
        "Establishments.update_establishment": {"name": "Renommé"},
        "Feeds.create_feed": {"scope": "equipment", "scope_id": ids["equipment_id"]},
        "IntegrationTokens.post_integration_token": {"name": "Synchro", "scope": "read"},
        "Projects.request_project": {"title": "Nouveau", "learners": 5,
                                     "wanted_from": "2027-02-01", "wanted_to": "2027-03-01",
                                     "equipment_ids": [ids["equipment_id"]]},
        "Projects.approve_project": {"trainer_id": ids["user_id"]},
        "Projects.reject_project": {"reason": "Non"},
        "Projects.cancel_project": {"reason": "Annulé"},
        "Users.create_user": {"email": "nouveau@example.org", "name": "Nouveau",
                              "role": "trainer", "password": "une phrase assez longue 42"},
        "Certifications.grant_certification": {"certification_type_id":
                                               ids["certification_type_id"]},
        "IdentityProviders.create_identity_provider": {
            "establishment_id": ids["establishment_id"], "kind": "cas", "code": "new-cas",
            "label": "CAS", "settings": {"server_url": "https://cas.example.org/cas/"},
            "role_rules": [{"attribute": "memberOf", "value": "staff", "role": "trainer"}]},
        "IdentityProviders.update_identity_provider": {
            "label": "Renommé",
            "role_rules": [{"attribute": "memberOf", "value": "staff", "role": "trainer"}]},
        "TravelTimes.put_travel_time": {"establishment_a_id": ids["away_id"],
                                        "establishment_b_id": ids["establishment_id"],
                                        "minutes": 45},
        "TravelTimes.patch_default": {"minutes": 30},
        "Quotas.create_quota": {"equipment_id": ids["equipment_id"], "applies_to": "user",
                                "period": "week", "max_hours": 7.5, "over": "refuse"},
        "Quotas.update_quota": {"max_hours": 50},
        "CheckIn.check_out": {"incident": "Fuite"},
        "Waitlist.join": {"equipment_id": ids["equipment_id"], "title": "En attente",
                          "start": "2027-01-13T09:00:00+01:00",
                          "end": "2027-01-13T10:00:00+01:00"},
        "Quotes.draft_quote": {},
        "Agreements.generate_agreement": {},
        "Agreements.waive": {"reason": "Interne"},
        "Quotes.update_quote": {"notes": "Note"},
        "Quotes.decline_quote": {"reason": "Non"},
        "Attendance.add_learner": {"first_name": "Léa", "last_name": "Garnier",
                                   "public": "employee"},
        "Attendance.update_learner": {"first_name": "Léa", "last_name": "Garnier",
                                      "public": "employee"},
        "Attendance.put_marks": {"marks": [{"learner_id": ids["learner_id"],
                                            "presence": "present"}]},
        "Attendance.sign": {"typed_name": "Anne Formatrice"},
        "Attendance.countersign": {"typed_name": "Marie Lenoir"},
        "Prices.add_price": {"establishment_id": ids["establishment_id"],
                             "equipment_id": ids["equipment_id"], "kind": "machine_hour",
                             "public": "academic", "unit_price_cents": 4500,
                             "vat_rate_bp": 2000, "valid_from": "2027-03-01"},
        "BillingProfiles.put_billing_profile": {"legal_name": "Lycée du Parc",
                                                "quote_validity_days": 30},
        "IdentityProviders.create_identity_link": {"provider_id": ids["provider_id"],
                                                   "subject": "nouveau"},
    }


def routes(app: Flask) -> dict[str, Any]:
    """``"METHOD endpoint"`` of every rule (static files, HEAD and OPTIONS aside)."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[f"{method} {rule.endpoint}"] = rule
    return found


def expected(key: str) -> dict[str, str]:
    cells = MATRIX[key].split()
    assert len(cells) == len(ROLES), key
    return dict(zip(ROLES, cells, strict=True))


def url_of(app: Flask, w: World, rule: Any) -> str:
    values = {name: (w.feed_token if name == "token" else w.ids[name])
              for name in rule.arguments}
    url = app.url_map.bind("localhost").build(rule.endpoint, values)
    return url + query_strings(w).get(rule.endpoint, "")


def observed(answer: Any) -> str:
    location = answer.headers.get("Location", "")
    if answer.status_code == 302 and location.startswith("/auth/login?next="):
        return "L"
    return str(answer.status_code)


# --- the table covers the routes --------------------------------------------------------


def test_every_route_has_a_row(app) -> None:
    """A new route, or a new method on one, needs its row; a row of a route
    that is gone is removed."""
    in_map, in_table = set(routes(app)), set(MATRIX)
    assert in_map - in_table == set(), "routes without a row in MATRIX"
    assert in_table - in_map == set(), "rows of MATRIX without a route"
    cells = {"L"} | {str(code) for code in (200, 201, 204, 302, 400, 401, 403, 404, 405,
                                              409, 422)}
    for key in MATRIX:
        assert set(expected(key).values()) <= cells, key
    assert HEADER.split() == ["anon", "admin", "coord", "ocoord", "trainer", "otrainer",
                              "company", "ocompany"]


# --- every person on every route -----------------------------------------------------------


@pytest.fixture
def world(app, make, db, now) -> World:
    return build_world(app, make, db)


def _clients(app: Flask, db: Any, w: World) -> tuple[dict[str, FlaskClient], dict]:
    clients = {role: logged_in(app, None if role == "anon" else w[role]) for role in ROLES}
    headers = {role: {} if role == "anon" else bearer(app, db, w[role]) for role in ROLES}
    return clients, headers


def test_route_role_matrix(app, db, world, monkeypatch) -> None:
    w = world
    clients, headers = _clients(app, db, w)
    bodies = api_bodies(w)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    mismatches: list[str] = []
    found = routes(app)

    def send(key: str, role: str) -> Any:
        method, endpoint = key.split(" ", 1)
        url = url_of(app, w, found[key])
        kwargs: dict[str, Any] = {}
        if url.startswith("/api/"):
            kwargs["headers"] = headers[role]
            if method in UNSAFE and endpoint in bodies:
                kwargs["json"] = bodies[endpoint]
        return clients[role].open(url, method=method, **kwargs)

    # Reads: each answer as the table says, and nothing written by any of them.
    before = fingerprint(db)
    for key in sorted(k for k in found if k.startswith("GET ")):
        for role, want in expected(key).items():
            got = observed(send(key, role))
            if got != want:
                mismatches.append(f"{key} as {role}: expected {want}, got {got}")
    written = changed_tables(before, fingerprint(db))
    assert written == [], f"GET requests wrote to {written}"

    # Writes: each in a savepoint undone afterwards; a refusal writes nothing.
    watch = WriteWatch(db)
    for key in sorted(k for k in found if not k.startswith("GET ")):
        for role, want in expected(key).items():
            with undone(db), watch:
                got = observed(send(key, role))
                if got != want:
                    mismatches.append(f"{key} as {role}: expected {want}, got {got}")
                written = watch.changed(db, before) if got in REFUSED else []
                if written:
                    mismatches.append(f"{key} as {role}: refused ({got}) but wrote {written}")
            if key == "POST auth.logout" and role != "anon":
                # The database is as it was, but this browser forgot its session.
                monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
                clients[role] = logged_in(app, w[role])
                monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
                before = fingerprint(db)
    assert mismatches == [], "\n".join(mismatches)


def test_pages_refuse_a_post_without_csrf_token(app, db, world, monkeypatch) -> None:
    """Every page that takes a POST refuses it without the CSRF token (400),
    even from someone the table allows, and writes nothing."""
    w = world
    clients, _ = _clients(app, db, w)
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    found = routes(app)
    before = fingerprint(db)
    watch = WriteWatch(db)
    failures = []
    pages = sorted(k for k in found if k.split()[0] in UNSAFE
                   and not url_of(app, w, found[k]).startswith("/api/"))
    assert len(pages) > 30
    for key in pages:
        allowed = [role for role, want in expected(key).items() if want not in REFUSED]
        role = allowed[0] if allowed else "admin"
        with undone(db), watch:
            answer = clients[role].open(url_of(app, w, found[key]), method=key.split()[0],
                                        data={})
            written = watch.changed(db, before)
        if answer.status_code != 400 or written:
            failures.append(f"{key} as {role}: {answer.status_code}, wrote {written}")
    assert failures == [], "\n".join(failures)
