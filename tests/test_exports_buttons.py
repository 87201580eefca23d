"""Exports where the data is (issue 11): the buttons of « Mes réservations »,
the site calendar, the approval list and the reports, carrying the page's
filters; CSV and XLSX in the reader's language; the reports' period with both
days included."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, time

import pytest
from openpyxl import load_workbook

from models import Role
from tests.test_exports import Campus
from tests.test_report_figures import build_spring

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def campus(client, make, now) -> Campus:
    return Campus(client, make)


def _csv(answer, separator: str = ";") -> list[list[str]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=separator))


def _sheets(answer) -> dict[str, list[tuple]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Content-Type"] == XLSX
    assert "attachment" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _links(html: str) -> dict[str, str]:
    """The export buttons of a page: kind -> URL."""
    return {kind: url.replace("&amp;", "&") for url, kind in re.findall(
        r'<a class="btn btn-secondary btn-small" href="([^"]+)" download data-export="(\w+)"',
        html)}


# --- bookings: CSV and XLSX in the reader's language ------------------------------------


def test_csv_speaks_french_to_a_french_reader(client, login, campus) -> None:
    login(campus.trainer)
    rows = _csv(client.get(f"/bookings/export.csv?establishment_id={campus.tours.id}"))
    assert rows[0] == ["Date", "Début", "Fin", "Date de fin", "Établissement",
                       "Code de l’équipement", "Équipement", "Intitulé", "Usage", "Statut",
                       "Formateur", "Participants"]
    assert rows[1] == ["19/01/2027", "09:00", "11:00", "19/01/2027", "Lycée Grandmont",
                       "COBOT-1", "Cellule cobot", "TP cobotique — sécurité", "Formation",
                       "Confirmée", "Camille Martin", "12"]
    assert rows[2][7] == "'=1+1 jumeau"  # a formula stays text


def test_csv_speaks_english_to_an_english_reader(client, db, login, campus) -> None:
    campus.trainer.locale = "en"
    db.flush()
    login(campus.trainer)
    answer = client.get(f"/bookings/export.csv?establishment_id={campus.tours.id}")
    rows = _csv(answer, ",")
    assert rows[0] == ["Date", "Start", "End", "End date", "Establishment", "Equipment code",
                       "Equipment", "Title", "Purpose", "Status", "Trainer", "Participants"]
    assert rows[1][:4] == ["2027-01-19", "09:00", "11:00", "2027-01-19"]
    assert rows[1][8:10] == ["Training", "Confirmed"]
    assert answer.headers["Content-Disposition"] == 'attachment; filename="bookings.csv"'


def test_xlsx_is_read_back_with_typed_cells(client, db, login, campus) -> None:
    login(campus.trainer)
    sheets = _sheets(client.get("/bookings/export.xlsx?from=2027-01-19&to=2027-01-20"))
    (title, rows), = sheets.items()
    assert title == "Réservations"
    assert rows[0][:3] == ("Date", "Début", "Fin")
    assert [r[7] for r in rows[1:]] == ["TP cobotique — sécurité", "=1+1 jumeau"]
    first = rows[1]
    assert first[0].date() == date(2027, 1, 19)
    assert first[1] == time(9)
    assert first[2] == time(11)
    assert first[8:11] == ("Formation", "Confirmée", "Camille Martin")
    assert first[11] == 12
    campus.trainer.locale = "en"
    db.flush()
    sheets = _sheets(client.get("/bookings/export.xlsx?from=2027-01-19&to=2027-01-19"))
    assert list(sheets) == ["Bookings"]
    assert sheets["Bookings"][1][8:10] == ("Training", "Confirmed")


def test_a_formula_stays_text_in_the_workbook(client, login, campus) -> None:
    login(campus.trainer)
    book = load_workbook(io.BytesIO(client.get("/bookings/export.xlsx").data))
    cell = book.active.cell(row=3, column=8)
    assert cell.value == "=1+1 jumeau"
    assert cell.data_type == "s"


def test_codes_keep_the_machine_form(client, login, campus) -> None:
    login(campus.trainer)
    rows = _csv(client.get("/bookings/export.csv?codes=1&from=2027-01-19&to=2027-01-19"))
    assert rows[0] == ["date", "start", "end", "equipment_code", "equipment_name", "title",
                       "purpose", "status", "trainer", "participants"]
    assert rows[1][6:8] == ["training", "confirmed"]


def test_mine_keeps_the_readers_own(client, login, make, campus) -> None:
    other = make.user(Role.TRAINER, establishment=campus.tours)
    login(other)
    assert len(_csv(client.get("/bookings/export.csv"))) == 4  # every booking of the campus
    assert len(_csv(client.get("/bookings/export.csv?mine=1"))) == 1  # headers only
    assert client.get("/bookings/export.csv?mine=yes").status_code == 400


def test_mine_holds_the_bookers_bookings(client, login, campus) -> None:
    login(campus.trainer)
    assert len(_csv(client.get("/bookings/export.csv?mine=1"))) == 4


def test_a_company_never_exports_another_companys_bookings(client, login, make, campus) -> None:
    login(make.user(Role.COMPANY))
    for query in ("", f"?establishment_id={campus.tours.id}", "?status=confirmed", "?mine=1"):
        assert len(_csv(client.get(f"/bookings/export.csv{query}"))) == 1, query
        (rows,) = _sheets(client.get(f"/bookings/export.xlsx{query}")).values()
        assert len(rows) == 1, query


def test_downloads_need_a_login(client) -> None:
    answer = client.get("/bookings/export.xlsx")
    assert answer.status_code == 302
    assert "/auth/login" in answer.headers["Location"]


# --- the buttons, with the page's filters ------------------------------------------------


def test_my_bookings_offers_its_tab(client, login, now, campus) -> None:
    login(campus.trainer)
    links = _links(client.get("/bookings/mine").get_data(as_text=True))
    assert set(links) == {"ics", "csv", "xlsx"}
    assert "mine=1" in links["csv"]
    assert "from=2027-01-12" in links["csv"]
    rows = _csv(client.get(links["csv"]))
    assert [r[7] for r in rows[1:]] == ["TP cobotique — sécurité", "'=1+1 jumeau", "Émulsions"]
    past = _links(client.get("/bookings/mine?tab=past").get_data(as_text=True))
    assert "to=2027-01-12" in past["xlsx"]
    assert len(_csv(client.get(past["csv"]))) == 1


def test_site_calendar_offers_its_establishment_and_days(client, login, campus) -> None:
    login(campus.trainer)
    html = client.get(f"/sites/{campus.tours.id}?view=week&date=2027-01-20").get_data(
        as_text=True)
    links = _links(html)
    assert set(links) == {"ics", "csv", "xlsx"}
    assert f"establishment_id={campus.tours.id}" in links["csv"]
    assert "from=2027-01-18" in links["csv"]
    assert "to=2027-01-24" in links["csv"]
    assert [r[6] for r in _csv(client.get(links["csv"]))[1:]] == ["Cellule cobot",
                                                                   "Jumeau numérique"]
    day = _links(client.get(f"/sites/{campus.tours.id}?date=2027-01-19").get_data(
        as_text=True))
    assert [r[6] for r in _csv(client.get(day["csv"]))[1:]] == ["Cellule cobot"]


def test_approval_list_offers_the_pending_bookings(client, login, make, campus) -> None:
    coordinator = make.user(Role.COORDINATOR, establishment=campus.orleans)
    login(coordinator)
    links = _links(client.get("/coordination/approvals").get_data(as_text=True))
    assert "status=pending" in links["csv"]
    assert f"establishment_id={campus.orleans.id}" in links["csv"]
    rows = _csv(client.get(links["csv"]))
    assert [(r[7], r[9]) for r in rows[1:]] == [("Émulsions", "En attente")]


def test_pages_without_exports_show_no_buttons(client, login, campus) -> None:
    login(campus.trainer)
    assert _links(client.get("/dashboard").get_data(as_text=True)) == {}


# --- reports ----------------------------------------------------------------------------


@pytest.fixture
def spring(make):
    return build_spring(make)


MARCH_PAGE = "from=2027-03-01&until=2027-03-31"


def test_report_buttons_carry_the_period_and_establishment(client, login, spring) -> None:
    login(spring.coordinator)
    html = client.get(f"/reports?{MARCH_PAGE}").get_data(as_text=True)
    links = _links(html)
    assert set(links) == {"csv", "xlsx"}
    for url in links.values():
        assert "from=2027-03-01" in url
        assert "until=2027-03-31" in url
        assert f"establishment_id={spring.trs.id}" in url  # the coordinator's default
    rows = _csv(client.get(links["csv"]))
    assert rows[0] == ["Équipement", "Heures réservées", "Heures d’ouverture", "Taux"]
    assert rows[1] == ["TRS-M1 — Robot <cobot> & co", "13,50", "206,00", "0,0655"]
    campus = _links(client.get(f"/reports?{MARCH_PAGE}&establishment_id=all").get_data(
        as_text=True))
    assert "establishment_id=all" in campus["xlsx"]


def test_report_workbook_has_a_sheet_per_section(client, db, login, spring) -> None:
    login(spring.coordinator)
    sheets = _sheets(client.get(f"/reports/utilisation.xlsx?{MARCH_PAGE}"
                                f"&establishment_id={spring.trs.id}"))
    # Then the sheets of « Utilisation réelle » (tests/test_report_used_hours.py).
    assert list(sheets)[:5] == ["Équipement", "Mois", "Usage", "Réservé par", "Entreprise"]
    assert len(sheets) == 7
    assert sheets["Équipement"][1] == ("TRS-M1 — Robot <cobot> & co", 13.5, 206.0, 0.0655)
    assert sheets["Mois"][1][0] == "mars 2027"
    spring.coordinator.locale = "en"
    db.flush()
    sheets = _sheets(client.get(f"/reports/utilisation.xlsx?{MARCH_PAGE}&establishment_id=all"))
    assert list(sheets)[-4:] == ["Establishment", "Real use per machine",
                                 "Real use per establishment", "Real use per user"]
    assert sheets["Month"][1][0] == "March 2027"


def test_report_csv_in_english(client, db, login, spring) -> None:
    spring.coordinator.locale = "en"
    db.flush()
    login(spring.coordinator)
    rows = _csv(client.get(f"/reports/utilisation.csv?{MARCH_PAGE}&group_by=purpose"
                           f"&establishment_id={spring.trs.id}"), ",")
    assert rows[0] == ["Purpose", "Booked hours", "Open hours", "Rate"]
    assert "Training" in {r[0] for r in rows[1:]}


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_report_workbook_is_refused_to_trainers_and_companies(client, login, make, role):
    login(make.user(role))
    assert client.get("/reports/utilisation.xlsx").status_code == 403


def _lead(html: str) -> str:
    return re.search(r'<p class="lead">([^<]*)</p>', html).group(1)


def test_report_period_end_is_included(client, login, spring) -> None:
    """31 March entered gives « au … 31 mars », as every other date of the pages."""
    login(spring.coordinator)
    html = client.get("/reports?from=2027-03-01&until=2027-03-31").get_data(as_text=True)
    assert re.search(r"au (\w+ )?31 mars 2027$", _lead(html)), _lead(html)
    assert 'name="until" type="date" value="2027-03-31"' in html
    assert 'href="/reports?from=2027-04-01&amp;until=2027-04-30' in html
    # An old link's excluded "to" (the API's word) shows the same period.
    old = client.get("/reports?from=2027-03-01&to=2027-04-01").get_data(as_text=True)
    assert _lead(old) == _lead(html)
    one_day = client.get("/reports?from=2027-03-10&until=2027-03-10")
    assert one_day.status_code == 200
    assert re.search(r"au (\w+ )?10 mars 2027$", _lead(one_day.get_data(as_text=True)))
    assert client.get("/reports?from=2027-03-10&until=2027-03-09").status_code == 400
