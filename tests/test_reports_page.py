"""/reports: the coordinators' page (charts as SVG, tables) and its CSV downloads."""

from __future__ import annotations

import codecs
import csv
import html as html_lib
import io
import re
import xml.etree.ElementTree as ET

import pytest

from booking.reports.svg import Bar, bar_chart, column_chart
from models import Role
from tests.test_report_figures import build_spring

SVG = "{http://www.w3.org/2000/svg}"
MARCH = "from=2027-03-01&to=2027-04-01"


@pytest.fixture
def spring(make):
    return build_spring(make)


def _svgs(html: str) -> list[ET.Element]:
    """Every inline chart of the page, parsed as XML (so well-formed)."""
    return [ET.fromstring(block)  # noqa: S314 - our own page
            for block in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def _texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def _spaces(text: str) -> str:
    """French numbers use (narrow) no-break spaces: compare them as spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _table_row(html: str, table_id: str, key: str) -> list[str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return [_spaces(html_lib.unescape(re.sub(r"<[^>]+>", "", cell))).strip()
            for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]


# --- the page ---------------------------------------------------------------------


def test_coordinator_sees_charts_and_tables_of_their_establishment(client, login, spring):
    login(spring.coordinator)
    response = client.get(f"/reports?{MARCH}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    charts = {svg.get("id"): svg for svg in _svgs(html)}
    # The establishment defaults to the coordinator's: no per-establishment chart.
    # Real use: no machine requires check-in here, so no hours chart, but rates.
    assert sorted(charts) == ["chart-company", "chart-equipment", "chart-month",
                              "chart-purpose", "chart-sharing", "chart-usage-rates"]
    for chart_id, svg in charts.items():
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert svg.find(f"{SVG}title").text
        assert svg.find(f"{SVG}desc").text
    equipment = _texts(charts["chart-equipment"])
    # Labels escaped, values written as text: 13.5 / 206 and 4 / 93.
    assert "TRS-M1 — Robot <cobot> & co" in equipment
    assert "Robot <cobot>" not in html.replace("Robot &lt;cobot&gt; &amp; co", "")
    assert {"6,6 %", "4,3 %"} <= {_spaces(t) for t in equipment}
    assert _texts(charts["chart-month"])[-1] == "mars2027"  # two lines: "mars" over "2027"
    # Sharing bars differ by pattern, not only by colour.
    fills = {rect.get("fill") for rect in charts["chart-sharing"].iter(f"{SVG}rect")
             if rect.get("height") == "16"}
    assert fills == {"#0a6670", "url(#chart-sharing-p1)", "url(#chart-sharing-p2)",
                     "url(#chart-sharing-p3)"}
    # The tables give the same figures.
    assert _table_row(html, "table-equipment", str(spring.m1.id)) == [
        "TRS-M1 — Robot <cobot> & co", "13,5", "206", "6,6 %"]
    assert _table_row(html, "table-month", "2027-03") == ["mars 2027", "17,5", "299", "5,9 %"]
    assert _table_row(html, "table-sharing", "company")[1:] == ["5,5", "1,8 %"]
    assert _table_row(html, "table-activity", "learners_trained")[1] == "23"
    assert _table_row(html, "table-trainers", str(spring.t1.id)) == [
        "Claire Dubois", "3", "3", "23"]
    assert f'<option selected value="{spring.trs.id}">' in html
    assert f"establishment_id={spring.trs.id}" in html  # the CSV links keep the filter


def test_admin_starts_on_the_whole_campus(client, login, make, spring):
    login(make.user(Role.ADMIN))
    html = client.get(f"/reports?{MARCH}").get_data(as_text=True)
    assert "chart-establishment" in {svg.get("id") for svg in _svgs(html)}
    assert _table_row(html, "table-establishment", str(spring.orl.id))[1:3] == ["4", "220"]
    assert '<option selected value="all">' in html


def test_coordinator_may_look_at_the_whole_campus(client, login, spring):
    login(spring.coordinator)
    html = client.get(f"/reports?{MARCH}&establishment_id=all").get_data(as_text=True)
    assert _table_row(html, "table-sharing", "own")[1] == "11"


def test_default_range_is_the_current_month(client, login, now, spring):
    login(spring.coordinator)
    html = client.get("/reports").get_data(as_text=True)  # the clock: 12 January 2027
    assert 'name="from" type="date" value="2027-01-01"' in html
    # Both days included, as everywhere else (issue 11): the field says 31 January.
    assert 'name="until" type="date" value="2027-01-31"' in html
    assert "1 janvier 2027" in html
    assert "31 janvier 2027" in html
    assert 'href="/reports?from=2027-02-01&amp;until=2027-02-28' in html  # next month


@pytest.mark.parametrize("query", ["from=2027-04-01&to=2027-03-01", "from=2027-01-01&to=2028-06-01",
                                   "from=tomorrow", "establishment_id=999999",
                                   "establishment_id=%C2%B2", "from=0001-01-01&to=0001-01-15",
                                   "from=9999-12-01"])
def test_a_bad_filter_is_explained(client, login, spring, query):
    login(spring.coordinator)
    response = client.get(f"/reports?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert "<svg" not in html


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_trainers_and_companies_are_refused(client, login, make, role):
    login(make.user(role))
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/utilisation.csv").status_code == 403


def test_anonymous_goes_to_login(client):
    for url in ("/reports", "/reports/utilisation.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(("who", "linked"), [("coordinator", True), ("t1", False)])
def test_the_menu_links_the_page_for_staff_only(client, login, spring, who, linked):
    login(getattr(spring, who))
    assert ('href="/reports"' in client.get("/dashboard").get_data(as_text=True)) is linked


# --- CSV --------------------------------------------------------------------------


def test_csv_machine_form_for_french_spreadsheets(client, login, spring):
    login(spring.coordinator)
    response = client.get(f"/reports/utilisation.csv?{MARCH}&group_by=equipment"
                          f"&establishment_id={spring.trs.id}&codes=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8)
    text = body.decode("utf-8-sig")
    assert text.splitlines() == [
        "key;label;booked_hours;open_hours;rate",
        f"{spring.m1.id};TRS-M1 — Robot <cobot> & co;13,50;206,00;0,0655",
        f"{spring.sunday.id};TRS-SUN — Réacteur d'émulsion;4,00;93,00;0,0430",
    ]
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert float(rows[0]["booked_hours"].replace(",", ".")) == 13.5


def test_csv_with_commas(client, login, spring):
    login(spring.coordinator)
    response = client.get(f"/reports/utilisation.csv?{MARCH}&group_by=month&sep=,"
                          f"&establishment_id={spring.trs.id}&codes=1")
    text = response.get_data().decode("utf-8-sig")
    assert response.get_data().startswith(codecs.BOM_UTF8)
    assert list(csv.reader(io.StringIO(text))) == [
        ["key", "label", "booked_hours", "open_hours", "rate"],
        ["2027-03", "2027-03", "17.50", "299.00", "0.0585"],
    ]


def test_csv_groups_and_empty_rates(client, login, make, spring):
    login(spring.coordinator)
    text = client.get(f"/reports/utilisation.csv?{MARCH}&group_by=sharing&codes=1"
                      f"&establishment_id={spring.trs.id}").get_data().decode("utf-8-sig")
    assert [line.split(";")[:3] for line in text.splitlines()[1:]] == [
        ["own", "owner's establishment", "7,00"], ["other", "another establishment", "4,00"],
        ["company", "a company", "5,50"], ["none", "no establishment", "1,00"]]
    # A machine that never opens has no rate (an empty cell); a label that a
    # spreadsheet would take for a formula stays text.
    off = make.equipment(establishment=spring.orl, code="=OFF", name="Hors service", hours=None)
    text = client.get(f"/reports/utilisation.csv?{MARCH}&establishment_id={spring.orl.id}"
                      "&codes=1").get_data().decode("utf-8-sig")
    assert text.splitlines()[1:] == [
        f"{off.id};'=OFF — Hors service;0,00;0,00;",
        f"{spring.o1.id};ORL-O1 — Banc de maintenance;4,00;220,00;0,0182",
    ]


@pytest.mark.parametrize("query", ["sep=|", "group_by=colour", "from=2027-03-05&to=2027-03-01",
                                   "from=someday", "establishment_id=abc",
                                   "establishment_id=%C2%B2", "from=9999-12-01",
                                   "from=0001-01-01&to=0001-01-15"])
def test_csv_refuses_bad_parameters(client, login, spring, query):
    login(spring.coordinator)
    assert client.get(f"/reports/utilisation.csv?{query}").status_code == 400


def test_csv_of_an_unknown_establishment_is_404(client, login, spring):
    login(spring.coordinator)
    assert client.get("/reports/utilisation.csv?establishment_id=999999").status_code == 404


# --- the SVG builders ----------------------------------------------------------------


def test_charts_escape_every_label_and_stay_well_formed():
    nasty = 'A & B <script>alert("x")</script> \'quoted\''
    for build in (bar_chart, column_chart):
        svg = build([Bar(nasty, 50.0, "50 % <b>"), Bar("Sans valeur", None, "—", pattern=1)],
                    chart_id='c"1', title=nasty, desc="desc & <more>", axis_label="x < y")
        box = ET.fromstring(str(svg))  # noqa: S314 - our own chart, in its box
        root = box.find(f"{SVG}svg")
        assert root.find(f"{SVG}title").text == nasty
        assert "<script>" not in str(svg)
        texts = _texts(root)
        assert "x < y" in texts
        assert "50 % <b>" in texts
        assert any(t.startswith("A & B") for t in texts)
        # A bar with no figure draws no bar but keeps its text.
        assert "—" in texts
