"""Satisfaction questionnaires (issue 15, part 5): sent once at completion to the
contact and the learners with an e-mail, answered once through a link that
needs no account, results per project (learners anonymous) and aggregated per
machine, trainer and establishment; the pages and the CSV."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from booking.services.satisfaction import results, surveys
from booking.services.satisfaction.surveys import Answer, SurveyGone
from booking.timeutil import frozen
from models import AgreementWaiver, AuditEntry, OutboxMessage, Project, ProjectStatus, Role
from models.attendance import Learner, LearnerPublic
from models.satisfaction import RATINGS, Respondent, SatisfactionSurvey
from scheduler.jobs import job_by_id
from tests.conftest import NOW, csrf_token_of
from tests.world import fingerprint, logged_in

KEY = "test-secret-key"
LINK = re.compile(r"/survey/([A-Za-z0-9_\-]+)")


def completed_project(make: Any, db: Any, *, company: Any, requester: Any, trainer: Any,
                      machines: list[Any], title: str = "Crèmes", contact_email: str = "",
                      wanted_to: date = date(2027, 1, 10), **kw: Any) -> Project:
    project = Project(company=company, requested_by=requester, title=title, learners=4,
                      wanted_from=date(2027, 1, 4), wanted_to=wanted_to,
                      status=ProjectStatus.COMPLETED, trainer=trainer, equipment=machines,
                      contact_email=contact_email, created_at=NOW, updated_at=NOW, **kw)
    db.add(project)
    db.flush()
    return project


def learner(db: Any, project: Project, last_name: str, email: str | None,
            erased: bool = False) -> Learner:
    row = Learner(project_id=project.id, first_name="Léa", last_name=last_name, email=email,
                  public=LearnerPublic.EMPLOYEE, created_at=NOW)
    if erased:
        row.first_name, row.last_name, row.erased_at = "", "", NOW
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def w(make: Any, db: Any) -> SimpleNamespace:
    home = make.establishment(code="HOME", name="Lycée du Parc")
    away = make.establishment(code="AWAY", name="IUT de Tours")
    mixer = make.equipment(establishment=home, code="MEL-1", name="Mélangeur")
    oven = make.equipment(establishment=away, code="ETU-1", name="Étuve")
    company_a, company_b = make.company(name="Laboratoire A"), make.company(name="Société B")
    people = {
        "admin": make.user(Role.ADMIN),
        "coordinator": make.user(Role.COORDINATOR, establishment=home),
        "other_coordinator": make.user(Role.COORDINATOR, establishment=away),
        "trainer": make.user(Role.TRAINER, establishment=home, name="Alice Martin"),
        "other_trainer": make.user(Role.TRAINER, establishment=away, name="Bruno Petit"),
        "company": make.user(Role.COMPANY, company=company_a, email="achat@labo-a.fr"),
        "other_company": make.user(Role.COMPANY, company=company_b),
    }
    project = completed_project(make, db, company=company_a, requester=people["company"],
                                trainer=people["trainer"], machines=[mixer, oven],
                                contact_email="contact@labo-a.fr")
    with_email = learner(db, project, "Durand", "lea.durand@labo-a.fr")
    learner(db, project, "Sans", None)
    learner(db, project, "Vide", "")
    learner(db, project, "", "effacee@labo-a.fr", erased=True)
    return SimpleNamespace(home=home, away=away, mixer=mixer, oven=oven, company_a=company_a,
                           company_b=company_b, people=people, project=project,
                           learner=with_email, **people)


def csrf(client: Any) -> str:
    """A CSRF token of the client's session (any page's form gives it)."""
    return csrf_token_of(client.get("/auth/forgot").get_data(as_text=True))


def plain(text: str) -> str:
    """French typography's non-breaking spaces as plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def send(app: Any, db: Any, now: Any = NOW) -> int:
    with app.app_context():
        return surveys.send_surveys(db, now, key=KEY, valid_days=30)


def mails(db: Any) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("survey:%"))
                           .order_by(OutboxMessage.id)))


def tokens(db: Any) -> dict[str, str]:
    """Each mailed address's token, read back from its mail."""
    return {m.to_addr: LINK.search(m.body_text).group(1) for m in mails(db)}


def surveys_of(db: Any, project: Project) -> list[SatisfactionSurvey]:
    return list(db.scalars(select(SatisfactionSurvey)
                           .where(SatisfactionSurvey.project_id == project.id)
                           .order_by(SatisfactionSurvey.id)))


def answer(app: Any, db: Any, token: str, marks: tuple[int, ...], recommend: bool = True,
           comment: str = "") -> SatisfactionSurvey:
    with app.app_context():
        return surveys.answer_survey(db, token, Answer(dict(zip(RATINGS, marks, strict=True)),
                                                       recommend, comment), now=NOW)


# --- sending ----------------------------------------------------------------------------------


def test_the_job_sends_once_to_the_contact_and_the_learners_with_an_email(app, db, w) -> None:
    assert send(app, db) == 2
    assert send(app, db) == 0  # run twice: nothing more
    sent = surveys_of(db, w.project)
    assert [(s.respondent, s.email, s.learner_id) for s in sent] == [
        (Respondent.CONTACT, "contact@labo-a.fr", None),
        (Respondent.LEARNER, "lea.durand@labo-a.fr", w.learner.id)]
    assert all(s.expires_at == NOW + timedelta(days=30) and s.answered_at is None
               for s in sent)
    messages = mails(db)
    assert [m.to_addr for m in messages] == ["contact@labo-a.fr", "lea.durand@labo-a.fr"]
    found = tokens(db)
    # Only the token's digest is stored; the mail carries the link.
    assert {s.token_digest for s in sent} == {surveys.digest(t) for t in found.values()}
    assert not any(t in s.token_digest for t in found.values() for s in sent)
    assert all("{site}/survey/" in m.body_text for m in messages)
    # French by default (the requester chose no other language; learners have none).
    assert [plain(m.subject) for m in messages] == ["Votre avis sur la formation « Crèmes »"] * 2
    assert "Votre lien fonctionne une seule fois" in plain(messages[1].body_text)


def test_the_job_leaves_projects_not_completed_or_completed_long_ago(app, make, db, w) -> None:
    w.project.status = ProjectStatus.IN_PROGRESS
    old = completed_project(make, db, company=w.company_a, requester=w.company,
                            trainer=w.trainer, machines=[w.mixer], title="Ancien",
                            contact_email="old@labo-a.fr")
    old.updated_at = NOW - timedelta(days=90)
    db.flush()
    assert send(app, db) == 0
    assert mails(db) == []


def test_the_contact_is_the_requester_in_their_language_without_a_contact_email(
        app, make, db, w) -> None:
    w.company.locale = "en"
    bare = completed_project(make, db, company=w.company_a, requester=w.company,
                             trainer=w.trainer, machines=[w.mixer], title="Gels")
    db.flush()
    send(app, db)
    [contact] = [s for s in surveys_of(db, bare)]
    assert (contact.respondent, contact.email, contact.locale) == (
        Respondent.CONTACT, "achat@labo-a.fr", "en")
    [mail] = [m for m in mails(db) if m.to_addr == "achat@labo-a.fr"]
    assert mail.subject == "Your opinion on the training “Gels”"


def test_a_coordinator_sends_now_and_then_only_to_new_learners(app, db, w) -> None:
    with app.app_context():
        sent = surveys.send_project_surveys(db, w.project, actor=w.coordinator, now=NOW,
                                            key=KEY)
        assert len(sent) == 2
        with pytest.raises(InvalidState):
            surveys.send_project_surveys(db, w.project, actor=w.coordinator, now=NOW, key=KEY)
        learner(db, w.project, "Nouveau", "nouveau@labo-a.fr")
        [late] = surveys.send_project_surveys(db, w.project, actor=w.admin, now=NOW, key=KEY)
    assert late.email == "nouveau@labo-a.fr"
    assert send(app, db) == 0  # the job sees the project surveyed
    assert db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "project.surveys_sent")) == 2


@pytest.mark.parametrize(("who", "error"), [("company", Forbidden), ("trainer", Forbidden),
                                            ("other_company", NotFound)])
def test_only_staff_send_now(app, db, w, who, error) -> None:
    before = fingerprint(db, ["satisfaction_survey", "outbox_message"])
    with app.app_context(), pytest.raises(error):
        surveys.send_project_surveys(db, w.project, actor=w.people[who], now=NOW, key=KEY)
    assert fingerprint(db, ["satisfaction_survey", "outbox_message"]) == before


def test_a_project_not_completed_is_not_surveyed_now(app, db, w) -> None:
    w.project.status = ProjectStatus.IN_PROGRESS
    db.flush()
    with app.app_context(), pytest.raises(InvalidState):
        surveys.send_project_surveys(db, w.project, actor=w.coordinator, now=NOW, key=KEY)
    assert surveys_of(db, w.project) == []


def test_the_scheduler_job_calls_the_service(app, db, w) -> None:
    spec = job_by_id("satisfaction_surveys")
    assert spec.trigger_args == {"hours": 1}
    with app.app_context():
        assert spec.run(db, NOW) == "2 satisfaction questionnaire(s) sent"
        assert spec.run(db, NOW) == "0 satisfaction questionnaire(s) sent"


# --- answering: the service --------------------------------------------------------------------


def test_an_answer_consumes_the_link(app, db, w) -> None:
    send(app, db)
    token = tokens(db)["contact@labo-a.fr"]
    survey = answer(app, db, token, (5, 4, 5, 3, 4, 5), True, "  Très bien.  ")
    assert survey.answered_at == NOW
    assert (survey.overall, survey.equipment, survey.comment) == (5, 3, "Très bien.")
    before = fingerprint(db, ["satisfaction_survey"])
    with pytest.raises(SurveyGone):
        answer(app, db, token, (1, 1, 1, 1, 1, 1), False)
    assert fingerprint(db, ["satisfaction_survey"]) == before


@pytest.mark.parametrize("marks", [(0, 3, 3, 3, 3, 3), (3, 3, 3, 3, 3, 6), (3, 3, 3, 3, 3, -1)])
def test_a_mark_out_of_range_is_refused_by_the_service(app, db, w, marks) -> None:
    send(app, db)
    token = tokens(db)["contact@labo-a.fr"]
    with pytest.raises(ValidationError):
        answer(app, db, token, marks)
    with pytest.raises(ValidationError):
        answer(app, db, token, (3,) * 6, comment="x" * 2001)
    db.expire_all()
    assert all(s.answered_at is None for s in surveys_of(db, w.project))


# --- answering: the page -----------------------------------------------------------------------


def form_of(marks: tuple[Any, ...], recommend: str = "yes", comment: str = "") -> dict[str, Any]:
    return {**dict(zip(RATINGS, map(str, marks), strict=True)), "would_recommend": recommend,
            "comment": comment}


def test_the_page_asks_submits_once_and_then_says_it_is_answered(app, client, db, w,
                                                                 now) -> None:
    send(app, db)
    token = tokens(db)["lea.durand@labo-a.fr"]
    page = client.get(f"/survey/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "Votre avis sur la formation" in html
    assert "Vos réponses sont anonymes" in html
    # Six radio groups of five marks, each in a fieldset with its legend.
    assert html.count('type="radio"') == 6 * 5 + 2
    assert html.count("<legend>") == 7
    data = {**form_of((4, 4, 5, 3, 4, 4), "no", "Machines anciennes."),
            "csrf_token": csrf_token_of(html)}
    done = client.post(f"/survey/{token}", data=data)
    assert done.status_code == 200
    assert "Merci pour vos réponses" in done.get_data(as_text=True)
    [survey] = [s for s in surveys_of(db, w.project) if s.respondent is Respondent.LEARNER]
    db.refresh(survey)
    assert (survey.overall, survey.trainer, survey.would_recommend) == (4, 5, False)
    before = fingerprint(db, ["satisfaction_survey"])
    again = client.post(f"/survey/{token}", data={**data, "overall": "1"})
    assert again.status_code == 410
    assert "déjà" in again.get_data(as_text=True)
    assert client.get(f"/survey/{token}").status_code == 410
    assert fingerprint(db, ["satisfaction_survey"]) == before


def test_the_page_speaks_english_to_a_browser_that_prefers_it(app, client, db, w, now) -> None:
    send(app, db)
    token = tokens(db)["lea.durand@labo-a.fr"]
    page = client.get(f"/survey/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Your opinion on the training" in page.get_data(as_text=True)
    french = client.get(f"/survey/{token}", headers={"Accept-Language": "de-DE,de"})
    assert "Votre avis sur la formation" in french.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(app, client, db, w, now, monkeypatch) -> None:
    send(app, db)
    token = tokens(db)["lea.durand@labo-a.fr"]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    answer_ = client.post(f"/survey/{token}", data=form_of((4,) * 6))
    assert answer_.status_code == 400
    db.expire_all()
    assert all(s.answered_at is None for s in surveys_of(db, w.project))


def test_an_expired_link_is_410(app, client, db, w) -> None:
    send(app, db)
    token = tokens(db)["contact@labo-a.fr"]
    with frozen(NOW + timedelta(days=30, seconds=1)):
        page = client.get(f"/survey/{token}")
        assert page.status_code == 410
        assert "clos" in page.get_data(as_text=True)
        post = client.post(f"/survey/{token}",
                           data={**form_of((5,) * 6), "csrf_token": csrf(client)})
        assert post.status_code == 410
    db.expire_all()
    assert all(s.answered_at is None for s in surveys_of(db, w.project))


@pytest.mark.parametrize("token", [
    "x", "a" * 129, "A" * 5000, "%00", "%C3%A9t%C3%A9", "..%2F..%2Fetc", "%FF%FE",
    "' OR 1=1 --", "%F0%9F%98%80", "null", "%ED%A0%80", "-", "_" * 43])
def test_unknown_and_garbage_tokens_are_404_never_5xx(client, db, w, now, token) -> None:
    assert client.get(f"/survey/{token}").status_code == 404
    answer_ = client.post(f"/survey/{token}",
                          data={**form_of((4,) * 6), "csrf_token": csrf(client)})
    assert answer_.status_code == 404


@pytest.mark.parametrize(("marks", "recommend", "comment"), [
    ((6, 4, 4, 4, 4, 4), "yes", ""), ((0, 4, 4, 4, 4, 4), "yes", ""),
    (("abc", 4, 4, 4, 4, 4), "yes", ""), (("", 4, 4, 4, 4, 4), "yes", ""),
    ((4, 4, 4, 4, 4, "4.5"), "yes", ""), ((4,) * 6, "maybe", ""), ((4,) * 6, "", ""),
    ((4,) * 6, "yes", "x" * 2001), ((4,) * 6, "yes", "a\x00b")])
def test_a_refused_answer_writes_nothing(app, client, db, w, now, marks, recommend,
                                         comment) -> None:
    send(app, db)
    token = tokens(db)["contact@labo-a.fr"]
    before = fingerprint(db, ["satisfaction_survey"])
    answer_ = client.post(f"/survey/{token}",
                          data={**form_of(marks, recommend, comment), "csrf_token": csrf(client)})
    assert answer_.status_code == 200
    assert 'class="field-error"' in answer_.get_data(as_text=True)
    assert fingerprint(db, ["satisfaction_survey"]) == before


# --- results -----------------------------------------------------------------------------------


@pytest.fixture
def answered(app, make, db, w) -> SimpleNamespace:
    """Company A's project: the contact and three learners asked; the contact and
    two learners answered. A second project (only the away machine, the other
    trainer) with one answer. Averages worked by hand in the tests."""
    learner(db, w.project, "Petit", "paul.petit@labo-a.fr")
    learner(db, w.project, "Roux", "rose.roux@labo-a.fr")
    second = completed_project(make, db, company=w.company_b, requester=w.other_company,
                               trainer=w.other_trainer, machines=[w.oven], title="Gélules",
                               contact_email="contact@societe-b.fr",
                               wanted_to=date(2027, 1, 20))
    send(app, db)
    found = tokens(db)
    answer(app, db, found["contact@labo-a.fr"], (5, 4, 5, 3, 4, 5), True, "Contact ravi.")
    answer(app, db, found["lea.durand@labo-a.fr"], (4, 4, 5, 2, 3, 4), True, "Zèle du formateur.")
    answer(app, db, found["paul.petit@labo-a.fr"], (3, 2, 4, 1, 3, 3), False, "Attente longue.")
    answer(app, db, found["contact@societe-b.fr"], (2, 2, 2, 2, 2, 2), False)
    return SimpleNamespace(second=second)


def test_project_results_are_computed_from_the_answers(app, db, w, answered) -> None:
    with app.app_context():
        found = results.project_results(db, w.project, actor=w.company)
    assert (found.tally.sent, found.tally.answered, found.tally.response_rate) == (4, 3, 0.75)
    assert found.tally.averages == {"overall": 4.0, "content": 3.33, "trainer": 4.67,
                                    "equipment": 2.0, "organisation": 3.33, "objectives": 4.0}
    assert found.learners.averages["overall"] == 3.5
    assert found.contact.averages["overall"] == 5.0
    assert (found.tally.recommend_yes, found.tally.recommend_no) == (2, 1)
    assert found.tally.recommend_rate == pytest.approx(0.6667)
    # The contact's comment first, the learners' by their text: not by who or when.
    assert [(c.respondent, c.text) for c in found.comments] == [
        (Respondent.CONTACT, "Contact ravi."), (Respondent.LEARNER, "Attente longue."),
        (Respondent.LEARNER, "Zèle du formateur.")]


@pytest.mark.parametrize(("who", "error"), [("other_company", NotFound),
                                            ("trainer", Forbidden),
                                            ("other_trainer", NotFound)])
def test_project_results_are_refused_outside_staff_and_the_company(app, db, w, answered, who,
                                                                   error) -> None:
    with app.app_context(), pytest.raises(error):
        results.project_results(db, w.project, actor=w.people[who])


def test_the_project_page_shows_the_results_without_naming_learners(app, db, w,
                                                                    answered) -> None:
    html = logged_in(app, w.company).get(f"/projects/{w.project.id}").get_data(as_text=True)
    card = html[html.index('id="satisfaction"'):]
    assert 'id="satisfaction-answered">3<' in card
    assert "Contact ravi." in card
    assert "Zèle du formateur." in card
    assert "Attente longue." in card
    for private in ("Durand", "Petit", "lea.durand", "paul.petit", "rose.roux"):
        assert private not in card
    assert "4,67" in card
    assert "75" in card
    assert 'id="satisfaction-send"' not in card  # a company does not send


def test_the_trainer_sees_no_card_and_staff_may_send_to_the_rest(app, make, db, w) -> None:
    html = logged_in(app, w.trainer).get(f"/projects/{w.project.id}").get_data(as_text=True)
    assert 'id="satisfaction"' not in html
    client = logged_in(app, w.coordinator)
    page = client.get(f"/projects/{w.project.id}").get_data(as_text=True)
    assert 'id="satisfaction-send"' in page
    done = client.post(f"/projects/{w.project.id}/satisfaction/send",
                       data={"csrf_token": csrf_token_of(page)})
    assert done.status_code == 302
    assert len(surveys_of(db, w.project)) == 2
    for who, status in (("company", 403), ("other_company", 404), ("trainer", 403)):
        other = logged_in(app, w.people[who])
        assert other.post(f"/projects/{w.project.id}/satisfaction/send",
                          data={"csrf_token": csrf(other)}).status_code == status
    assert len(surveys_of(db, w.project)) == 2


# --- the aggregate -----------------------------------------------------------------------------


def by_key(rows: list[results.Row]) -> dict[int, results.Row]:
    return {row.key: row for row in rows}


def test_the_aggregate_per_machine_trainer_and_establishment(app, db, w, answered) -> None:
    with app.app_context():
        machines = by_key(results.aggregate(db, w.admin, "equipment"))
        trainers = by_key(results.aggregate(db, w.admin, "trainer"))
        places = by_key(results.aggregate(db, w.admin, "establishment"))
    mixer, oven = machines[w.mixer.id], machines[w.oven.id]
    assert (mixer.label, mixer.projects, mixer.sent, mixer.answered) == (
        "Mélangeur (MEL-1)", 1, 4, 3)
    assert mixer.averages["trainer"] == 4.67
    assert mixer.response_rate == 0.75
    # The oven served both projects: 5 sent, 4 answered.
    assert (oven.projects, oven.sent, oven.answered, oven.response_rate) == (2, 5, 4, 0.8)
    assert oven.averages["overall"] == 3.5  # (5 + 4 + 3 + 2) / 4
    assert oven.recommend_rate == 0.5
    assert trainers[w.trainer.id].label == "Alice Martin"
    assert (trainers[w.other_trainer.id].sent, trainers[w.other_trainer.id].answered) == (1, 1)
    assert places[w.home.id].sent == 4
    assert places[w.away.id].sent == 5
    with app.app_context():
        labels = [r.label for r in results.aggregate(db, w.admin, "establishment")]
        machine_labels = [r.label for r in results.aggregate(db, w.admin, "equipment")]
    assert labels == ["IUT de Tours", "Lycée du Parc"]
    assert machine_labels == ["Étuve (ETU-1)", "Mélangeur (MEL-1)"]  # accents aside


def test_the_aggregate_filters_on_the_projects_end(app, db, w, answered) -> None:
    with app.app_context():
        first = by_key(results.aggregate(db, w.admin, "trainer", None, date(2027, 1, 15)))
        second = by_key(results.aggregate(db, w.admin, "trainer", date(2027, 1, 15), None))
        both = results.aggregate(db, w.admin, "trainer", date(2027, 1, 10), date(2027, 1, 20))
        with pytest.raises(ValidationError):
            results.aggregate(db, w.admin, "trainer", date(2027, 2, 1), date(2027, 1, 1))
    assert set(first) == {w.trainer.id}
    assert set(second) == {w.other_trainer.id}
    assert len(both) == 2


def test_a_coordinator_aggregates_their_establishment_only(app, db, w, answered) -> None:
    with app.app_context():
        machines = by_key(results.aggregate(db, w.coordinator, "equipment"))
        places = by_key(results.aggregate(db, w.coordinator, "establishment"))
        trainers = by_key(results.aggregate(db, w.coordinator, "trainer"))
        away = by_key(results.aggregate(db, w.other_coordinator, "equipment"))
    assert set(machines) == {w.mixer.id}
    assert set(places) == {w.home.id}
    assert set(trainers) == {w.trainer.id}
    assert set(away) == {w.oven.id}
    assert away[w.oven.id].sent == 5


@pytest.mark.parametrize("who", ["trainer", "company"])
def test_the_aggregate_is_for_staff(app, db, w, who) -> None:
    with app.app_context(), pytest.raises(Forbidden):
        results.aggregate(db, w.people[who], "equipment")
    assert logged_in(app, w.people[who]).get("/satisfaction/").status_code == 403


def test_the_aggregate_page_and_its_csv(app, db, w, answered) -> None:
    client = logged_in(app, w.admin)
    html = client.get("/satisfaction/?start=2027-01-01&end=2027-01-31").get_data(as_text=True)
    assert "Mélangeur (MEL-1)" in html
    assert "Alice Martin" in html
    assert "IUT de Tours" in html
    assert "4 / 5" in html  # the oven: answered / sent
    csv = client.get("/satisfaction/export.csv?group_by=trainer&start=2027-01-01")
    assert csv.status_code == 200
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Formateur;Projets;")
    assert any(line.startswith("Alice Martin;1;4;3;") for line in lines)
    assert client.get("/satisfaction/export.csv?group_by=nope").status_code == 400
    bad = client.get("/satisfaction/?start=2027-02-01&end=2027-01-01")
    assert bad.status_code == 200


def test_a_projects_end_is_its_last_session_done(app, make, db, w) -> None:
    """The period filter reads the Paris day the last session done ended (a
    completed or confirmed one), not the wanted period, when there is one."""
    from booking.services.bookings.operations import BookingRequest, create_booking
    from booking.services.policy import CAMPUS_ZONE, Policy
    from models import BookingPurpose, BookingStatus

    w.project.status = ProjectStatus.APPROVED
    w.project.equipment = [w.mixer]
    db.add(AgreementWaiver(project_id=w.project.id, waived_at=NOW, reason="Existant"))
    db.flush()
    start = datetime(2027, 1, 14, 9, tzinfo=CAMPUS_ZONE)
    with app.app_context():
        booking = create_booking(db, actor=w.coordinator, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(
                                     w.mixer.id, start, start + timedelta(hours=2), "Émulsion",
                                     BookingPurpose.INDUSTRIAL_PROJECT, project_id=w.project.id))
    booking.status = BookingStatus.COMPLETED
    w.project.status = ProjectStatus.COMPLETED
    db.flush()
    assert results.end_dates(db, [w.project]) == {w.project.id: date(2027, 1, 14)}
    with app.app_context():
        assert results.aggregate(db, w.admin, "trainer", date(2027, 1, 11), date(2027, 1, 13)) == []
        [row] = results.aggregate(db, w.admin, "trainer", date(2027, 1, 14), date(2027, 1, 14))
    assert row.key == w.trainer.id


def test_staff_see_what_happens_before_completion(app, db, w) -> None:
    w.project.status = ProjectStatus.IN_PROGRESS
    db.flush()
    html = logged_in(app, w.admin).get(f"/projects/{w.project.id}").get_data(as_text=True)
    card = html[html.index('id="satisfaction"'):]
    assert "une fois le projet terminé" in plain(card)
    assert 'id="satisfaction-send"' not in card


def test_two_concurrent_senders_send_once(app, committed_db) -> None:
    """The job and a coordinator at the same moment, from two connections: the
    project's row lock (PostgreSQL) or the write lock (SQLite) lets one send."""
    import threading

    from booking.database import begin_write
    from tests.conftest import Factory

    session = committed_db.session()
    make = Factory(app, session)
    company = make.company()
    requester = make.user(Role.COMPANY, company=company)
    coordinator = make.user(Role.COORDINATOR)
    project = completed_project(make, session, company=company, requester=requester,
                                trainer=None, machines=[make.equipment()],
                                contact_email="contact@labo.fr")
    learner(session, project, "Durand", "lea@labo.fr")
    project_id, coordinator_id = project.id, coordinator.id
    session.commit()
    barrier, counts, errors = threading.Barrier(2), [], []

    def run(by_job: bool) -> None:
        try:
            with app.app_context():
                from booking.extensions import db as ext_db

                own = ext_db.session
                barrier.wait(10)
                begin_write(own)
                if by_job:
                    counts.append(surveys.send_surveys(own, NOW, key=KEY))
                else:
                    try:
                        counts.append(len(surveys.send_project_surveys(
                            own, own.get(Project, project_id),
                            actor=own.get(type(coordinator), coordinator_id), now=NOW,
                            key=KEY)))
                    except InvalidState:
                        counts.append(0)
                own.commit()
                ext_db.session.remove()
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(counts) == [0, 2]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SatisfactionSurvey)) == 2
    assert len(mails(session)) == 2


def test_erasing_a_learner_blanks_the_address_their_survey_keeps(app, db, w) -> None:
    send(app, db)
    found = tokens(db)
    answer(app, db, found["lea.durand@labo-a.fr"], (4,) * 6)
    assert surveys.forget_learner(db, w.learner.id) == 1
    [kept] = [s for s in surveys_of(db, w.project) if s.respondent is Respondent.LEARNER]
    assert (kept.email, kept.overall) == ("", 4)  # the answer stays, the address goes
    assert surveys.forget_learner(db, w.learner.id) == 0
    assert send(app, db) == 0  # and the learner is not asked again
