"""The demo campus: what a newcomer sees at the first start of the platform.

An empty booking system explains nothing, so this module loads the CosmetoPharma
Centre-Val de Loire campus of PRODUCT.md, in French: establishments of the four
départements, the pilot packaging line and its components, the emulsion reactor,
the cleanroom, cobot cells and instruments, certified (and not so certified)
trainers, two companies with their projects, and a few weeks of bookings. The
bookings are laid out by a small planner so that each one passes the booking
rules (opening hours, slot grid, French public holidays, closures, the trainer's
certifications, no overlap including changeover): the demo must never show what
the application itself would refuse.

Loading is idempotent: rows are matched by their natural key (code, e-mail,
company name, project title, closure and booking uid) and existing rows are left
as they are, so a second call creates nothing. It flushes; the caller commits.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.services.accounts.operations import create_user
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    BookingPurpose,
    BookingStatus,
    Certification,
    CertificationType,
    Closure,
    ClosureKind,
    Company,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Establishment,
    EstablishmentKind,
    Occupancy,
    OpeningHours,
    Project,
    ProjectStatus,
    Role,
    User,
)

PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "plateforme-demo"  # noqa: S105 - the published password of the demo accounts
BOOKING_UID = "demo-{}@plateforme.cosmetopharma"
CLOSURE_UID = "demo-closure-{}@plateforme.cosmetopharma"
SEARCH_DAYS = 21  # how far the planner moves a booking from its wished day
EK, EC, P, S = EstablishmentKind, EquipmentCategory, BookingPurpose, BookingStatus

# --- The campus -----------------------------------------------------------------------

ESTABLISHMENTS = [  # code, name, city, département, kind
    ("ORL-LYC", "Lycée Val de Loire — métiers de la chimie", "Orléans", "45", EK.LYCEE),
    ("TRS-PHA", "Faculté de pharmacie — Université de Tours", "Tours", "37", EK.UNIVERSITE),
    ("TRS-POL", "Polytech Tours", "Tours", "37", EK.ECOLE),
    ("CHA-OF", "Institut de formation industrielle d'Eure-et-Loir", "Chartres", "28",
     EK.ORGANISME_FORMATION),
    ("DRX-LYC", "Lycée des métiers de l'industrie de Dreux", "Dreux", "28", EK.LYCEE),
    ("BLO-LYC", "Lycée des métiers du Blésois", "Blois", "41", EK.LYCEE),
]

COMPANIES = ["Laboratoires Ligériens", "Cosmétiques du Val"]

CERTIFICATION_TYPES = [  # code, name, validity in months, description
    ("GMP-ZAC", "Accès zone à atmosphère contrôlée (BPF)", 12,
     "Habillage, comportement en salle propre et règles des bonnes pratiques de fabrication."),
    ("LIGNE-COND", "Conduite de ligne de conditionnement", 24,
     "Mise en route, réglages de format, vide de ligne et arrêt de la ligne pilote."),
    ("COBOT-SEC", "Sécurité en robotique collaborative", 36,
     "Analyse de risques, zones collaboratives, arrêts d'urgence et limitation d'effort."),
    ("REACT-EMUL", "Conduite du réacteur d'émulsion", 24,
     "Chauffe, agitation sous vide, homogénéisation et nettoyage en place du réacteur."),
    ("HPLC-ANA", "Analyse par chromatographie HPLC", 24,
     "Préparation des phases, séquences d'injection et exploitation des chromatogrammes."),
    ("ELEC-BR", "Habilitation électrique BR", 36,
     "Interventions électriques de maintenance en basse tension (NF C 18-510)."),
]

WEEK = tuple((day, "08:00", "18:00") for day in range(5))
WEEK_SAT = (*WEEK, (5, "08:00", "12:00"))
EQUIPMENT_DEFAULTS: dict[str, Any] = {
    "parent": None, "est": None, "capacity": None, "certs": (), "hours": WEEK, "slot": 30,
    "min": 60, "max": 480, "changeover": 0, "approval": False,
    "status": EquipmentStatus.ACTIVE, "reason": "",
}
LINE_PART: dict[str, Any] = {  # a component of the packaging line; hours come from the line
    "parent": "TRS-LC-01", "cat": EC.PILOT_LINE, "capacity": 4, "changeover": 30,
    "approval": True, "certs": ("GMP-ZAC", "LIGNE-COND"), "location": "Bâtiment B, ZAC 2",
}
EQUIPMENT: list[dict[str, Any]] = [  # a line comes before its components
    {"code": "TRS-LC-01", "name": "Ligne pilote de conditionnement", "est": "TRS-PHA",
     "cat": EC.PILOT_LINE, "location": "Bâtiment B, ZAC 2", "capacity": 8,
     "certs": ("GMP-ZAC", "LIGNE-COND"), "changeover": 60, "approval": True,
     "description": "Ligne complète pour flacons de 30 à 250 ml : remplissage, bouchage, "
     "étiquetage et encartonnage. Une heure de vide de ligne après chaque utilisation."},
    {**LINE_PART, "code": "TRS-LC-01-REMP", "name": "Remplisseuse volumétrique",
     "description": "Remplisseuse à pistons, 4 becs, crèmes et liquides visqueux."},
    {**LINE_PART, "code": "TRS-LC-01-BOUCH", "name": "Boucheuse",
     "description": "Vissage des capsules et pompes, couple contrôlé."},
    {**LINE_PART, "code": "TRS-LC-01-ETIQ", "name": "Étiqueteuse",
     "description": "Étiquetage enveloppant, impression du lot et de la date de péremption."},
    {**LINE_PART, "code": "TRS-LC-01-ENCART", "name": "Encartonneuse",
     "description": "Mise en étui avec notice, contrôle de présence par vision."},
    {"code": "TRS-REA-01", "name": "Réacteur d'émulsion 50 L", "est": "TRS-PHA",
     "cat": EC.PILOT_LINE, "location": "Bâtiment B, ZAC 1", "capacity": 8,
     "certs": ("GMP-ZAC", "REACT-EMUL"), "changeover": 45, "approval": True,
     "description": "Cuve double enveloppe sous vide avec turbine d'homogénéisation, "
     "pour crèmes et émulsions H/E ou E/H. Nettoyage en place de 45 minutes."},
    {"code": "TRS-ZAC-01", "name": "Suite en salle propre (ISO 7)", "est": "TRS-PHA",
     "cat": EC.ROOM, "location": "Bâtiment B, niveau 1", "capacity": 8,
     "certs": ("GMP-ZAC",), "changeover": 30, "approval": True,
     "description": "Sas d'habillage, salle de pesée et salle de fabrication en classe ISO 7."},
    {"code": "TRS-HPLC-01", "name": "Chaîne HPLC", "est": "TRS-PHA",
     "cat": EC.ANALYSIS_INSTRUMENT, "location": "Bâtiment A, laboratoire de contrôle",
     "capacity": 6, "certs": ("HPLC-ANA",), "changeover": 30,
     "description": "Chromatographie liquide, détecteur à barrette de diodes, passeur "
     "d'échantillons : dosage des actifs et des conservateurs."},
    {"code": "ORL-COBOT-01", "name": "Cellule de robotique collaborative", "est": "ORL-LYC",
     "cat": EC.TRAINING_EQUIPMENT, "location": "Atelier de production, bâtiment C",
     "capacity": 12, "certs": ("COBOT-SEC",), "hours": WEEK_SAT, "max": 240,
     "changeover": 15, "description": "Bras collaboratif 6 axes avec préhenseur, convoyeur "
     "et vision : prise et dépose de flacons, palettisation."},
    {"code": "CHA-COBOT-01", "name": "Cellule cobotique de conditionnement", "est": "CHA-OF",
     "cat": EC.TRAINING_EQUIPMENT, "location": "Plateau technique, salle 4", "capacity": 12,
     "certs": ("COBOT-SEC",), "hours": WEEK_SAT, "max": 240,
     "description": "Deux bras collaboratifs autour d'un poste de mise en étui."},
    {"code": "TRS-JUM-01", "name": "Station jumeau numérique", "est": "TRS-POL",
     "cat": EC.TRAINING_EQUIPMENT, "location": "Salle d'industrie 4.0, bâtiment E",
     "capacity": 12, "hours": WEEK_SAT, "description": "Simulation 3D de la ligne de "
     "conditionnement reliée à un automate réel : mise en service virtuelle et pannes."},
    {"code": "DRX-MAINT-01", "name": "Banc de maintenance connecté", "est": "DRX-LYC",
     "cat": EC.TRAINING_EQUIPMENT, "location": "Atelier maintenance", "capacity": 10,
     "certs": ("ELEC-BR",), "max": 240, "changeover": 15,
     "description": "Moteurs, variateurs et capteurs instrumentés : maintenance "
     "conditionnelle et supervision des vibrations."},
    {"code": "BLO-TEXT-01", "name": "Analyseur de texture", "est": "BLO-LYC",
     "cat": EC.ANALYSIS_INSTRUMENT, "location": "Laboratoire de formulation", "capacity": 16,
     "slot": 15, "min": 30, "max": 240,
     "description": "Mesure de fermeté, d'étalement et d'adhésivité des crèmes et gels."},
    {"code": "BLO-RHEO-01", "name": "Rhéomètre rotatif", "est": "BLO-LYC",
     "cat": EC.ANALYSIS_INSTRUMENT, "location": "Laboratoire de formulation", "capacity": 6,
     "status": EquipmentStatus.MAINTENANCE,
     "reason": "En étalonnage chez le fabricant ; retour prévu dans trois semaines.",
     "description": "Viscosité et comportement rhéologique des émulsions."},
]

# --- People --------------------------------------------------------------------------

ADMIN = "admin@plateforme.test"
JULIEN = "formateur@plateforme.test"  # the story's trainer: cobot yes, cleanroom no
CLAIRE = "formatrice.tours@plateforme.test"
KARIM = "formateur.chartres@plateforme.test"
SOPHIE = "formatrice.dreux@plateforme.test"
LIGERIENS = "contact@laboratoires-ligeriens.test"
COSMETIQUES = "contact@cosmetiques-du-val.test"
C_TOURS, C_POLYTECH, C_ORLEANS, C_CHARTRES, C_DREUX, C_BLOIS = (
    f"coord.{site}@plateforme.test"
    for site in ("tours", "polytech", "orleans", "chartres", "dreux", "blois")
)
USERS = [  # e-mail, name, role, establishment code, company name
    (ADMIN, "Nathalie Roux", Role.ADMIN, None, None),
    (C_TOURS, "Isabelle Martin", Role.COORDINATOR, "TRS-PHA", None),
    (C_POLYTECH, "Thomas Girard", Role.COORDINATOR, "TRS-POL", None),
    (C_ORLEANS, "Philippe Bernard", Role.COORDINATOR, "ORL-LYC", None),
    (C_CHARTRES, "Valérie Petit", Role.COORDINATOR, "CHA-OF", None),
    (C_DREUX, "Olivier Robert", Role.COORDINATOR, "DRX-LYC", None),
    (C_BLOIS, "Sandrine Richard", Role.COORDINATOR, "BLO-LYC", None),
    (JULIEN, "Julien Moreau", Role.TRAINER, "ORL-LYC", None),
    (CLAIRE, "Claire Dubois", Role.TRAINER, "TRS-PHA", None),
    (KARIM, "Karim Benali", Role.TRAINER, "CHA-OF", None),
    (SOPHIE, "Sophie Lefèvre", Role.TRAINER, "DRX-LYC", None),
    (LIGERIENS, "Marc Fontaine", Role.COMPANY, None, "Laboratoires Ligériens"),
    (COSMETIQUES, "Émilie Chevalier", Role.COMPANY, None, "Cosmétiques du Val"),
]
CERTIFICATIONS = [  # holder, type, days from today to its expiry (negative: expired), granter
    (JULIEN, "COBOT-SEC", 900, C_ORLEANS),
    (JULIEN, "LIGNE-COND", 600, C_TOURS),
    (CLAIRE, "GMP-ZAC", 215, C_TOURS),
    (CLAIRE, "LIGNE-COND", 430, C_TOURS),
    (CLAIRE, "REACT-EMUL", 20, C_TOURS),  # expires within the month: renewal warning
    (CLAIRE, "HPLC-ANA", 670, C_TOURS),
    (KARIM, "COBOT-SEC", 695, C_CHARTRES),
    (KARIM, "ELEC-BR", -30, C_CHARTRES),  # expired: the bench refuses him
    (SOPHIE, "ELEC-BR", 845, C_DREUX),
    (SOPHIE, "COBOT-SEC", 1000, C_DREUX),
]

PROJECTS: list[dict[str, Any]] = [  # weeks are counted from the next Monday
    {"key": "solaire", "company": "Cosmétiques du Val", "by": COSMETIQUES,
     "title": "Lot pilote d'une crème solaire SPF 50", "learners": 8, "weeks": (0, 5),
     "description": "Fabrication et conditionnement d'un lot pilote de 40 kg avant transfert "
     "industriel, avec des apprentis de BTS.", "objectives": "Maîtriser l'émulsification, "
     "la validation du dosage et le vide de ligne en environnement BPF.",
     "status": ProjectStatus.APPROVED, "trainer": CLAIRE, "decided_by": C_TOURS,
     "reason": "Formatrice certifiée BPF affectée ; créneaux réservés sur le réacteur et la ligne.",
     "equipment": ("TRS-REA-01", "TRS-LC-01")},
    {"key": "serums", "company": "Laboratoires Ligériens", "by": LIGERIENS,
     "title": "Conditionnement de sérums — formation d'opérateurs", "learners": 6,
     "weeks": (4, 9), "description": "Former six opérateurs de conditionnement avant "
     "l'ouverture d'une nouvelle ligne de sérums.", "objectives": "Réglages de format, "
     "contrôles en cours de production et habillage en zone à atmosphère contrôlée.",
     "status": ProjectStatus.REQUESTED, "trainer": None, "decided_by": None, "reason": None,
     "equipment": ("TRS-LC-01", "TRS-ZAC-01")},
]

CLOSURES = [  # number, scope, code, week, weekday, days, kind, reason, created by
    (1, "equipment", "TRS-REA-01", 4, 0, 3, ClosureKind.MAINTENANCE,
     "Maintenance préventive annuelle : joints de l'agitateur et étalonnage des sondes.", C_TOURS),
    (2, "establishment", "DRX-LYC", 2, 4, 1, ClosureKind.OTHER,
     "Journée pédagogique : l'établissement ne reçoit pas de réservations.", C_DREUX),
]

COBOT_BAC = "Programmation d'un cobot — Bac pro PCEPC"
SUN_FILL = "Lot pilote crème solaire — conditionnement"
SUN_MIX = "Lot pilote crème solaire — fabrication de l'émulsion"
# A row books the same slot in each of its weeks (counted from the next Monday); booking
# number ``first + i`` (its uid) is the row's i-th week. Weekday 0 is Monday. No booking
# of ORL-COBOT-01 is on (or moved by a holiday to) a Tuesday: in the demo story the trainer
# books every Tuesday morning there himself.
# first, equipment, weeks, weekday, start, minutes, title, purpose, status, trainer,
# booked by, participants, project
BOOKINGS = [
    (1, "ORL-COBOT-01", (0, 1, 2, 3, 4), 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED,
     JULIEN, JULIEN, 12, None),
    (6, "ORL-COBOT-01", (2,), 4, "09:00", 120, "Atelier découverte de la cobotique — collégiens",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, JULIEN, JULIEN, 10, None),
    (7, "TRS-JUM-01", (2,), 2, "09:00", 180, "Jumeau numérique de la ligne de conditionnement",
     P.TRAINING, S.PENDING, JULIEN, JULIEN, 12, None),
    (8, "BLO-TEXT-01", (1,), 4, "09:00", 120, "Texture des crèmes — BTS métiers de la chimie",
     P.TRAINING, S.CONFIRMED, JULIEN, C_BLOIS, 12, None),
    (9, "TRS-LC-01", (0, 1, 2), 1, "08:00", 240, "TP conditionnement — Master 2 pharmacie "
     "industrielle", P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8, None),
    (12, "TRS-LC-01", (0,), 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, S.CONFIRMED, CLAIRE,
     C_TOURS, 8, "solaire"),
    (13, "TRS-LC-01", (2,), 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, S.PENDING, CLAIRE,
     C_TOURS, 8, "solaire"),
    (14, "TRS-LC-01-ETIQ", (1,), 2, "09:00", 180, "Changement de format de l'étiqueteuse",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 4, None),
    (15, "TRS-LC-01-REMP", (1,), 2, "13:30", 120, "Validation du dosage de la remplisseuse",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 4, None),
    (16, "TRS-REA-01", (0,), 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, S.CONFIRMED, CLAIRE,
     C_TOURS, 8, "solaire"),
    (17, "TRS-REA-01", (0,), 2, "09:00", 180, "Émulsification H/E — licence professionnelle",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8, None),
    (18, "TRS-REA-01", (1,), 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, S.PENDING, CLAIRE,
     C_TOURS, 8, "solaire"),
    (19, "TRS-ZAC-01", (0, 2), 4, "09:00", 180, "Habillage et accès en ZAC — initiation",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8, None),
    (21, "TRS-ZAC-01", (3,), 1, "14:00", 120, "Audit BPF de la zone à atmosphère contrôlée",
     P.OTHER, S.PENDING, CLAIRE, CLAIRE, 4, None),
    (22, "TRS-HPLC-01", (1, 3), 3, "09:00", 240, "Dosage HPLC d'un sérum — contrôle qualité",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 6, None),
    (24, "TRS-LC-01", (3,), 0, "08:00", 240, "Maintenance préventive de la ligne",
     P.MAINTENANCE, S.CONFIRMED, CLAIRE, C_TOURS, None, None),
    (25, "CHA-COBOT-01", (0, 1, 2), 1, "09:00", 240, "Cobotique pour la reconversion "
     "professionnelle", P.TRAINING, S.CONFIRMED, KARIM, KARIM, 10, None),
    (28, "CHA-COBOT-01", (1,), 5, "08:00", 240, "Portes ouvertes — démonstration de cobot",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, KARIM, C_CHARTRES, 12, None),
    (29, "DRX-MAINT-01", (0, 1, 2), 2, "13:30", 180, "Maintenance conditionnelle — capteurs "
     "connectés", P.TRAINING, S.CONFIRMED, SOPHIE, SOPHIE, 10, None),
    (32, "BLO-TEXT-01", (2,), 4, "14:00", 120, "Découverte des métiers de la cosmétique",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, SOPHIE, C_BLOIS, 15, None),
    (33, "CHA-COBOT-01", (3,), 0, "09:00", 180, "Cobot et maintenance 4.0 — BTS MS", P.TRAINING,
     S.PENDING, SOPHIE, SOPHIE, 10, None),
]

COUNT_KEYS = ("establishments", "companies", "certification_types", "equipment",
              "opening_hours", "users", "certifications", "projects", "closures", "bookings",
              "occupancies")


def load_demo_campus(session: Session, *, now: datetime) -> dict[str, int]:
    """Add whatever of the demo campus is missing; return the rows created, per kind."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    loader = _Loader(session, now.astimezone(UTC))
    for step in (loader.add_establishments, loader.add_companies, loader.add_types,
                 loader.add_equipment, loader.add_users, loader.add_certifications,
                 loader.add_projects, loader.add_closures, loader.add_bookings):
        step()
        session.flush()
    return loader.counts


def _local(day: date, hhmm: str) -> datetime:
    """The UTC instant of a Europe/Paris wall-clock time."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=PARIS).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _held(item: Equipment) -> list[Equipment]:
    """The occupancy rows a booking of ``item`` writes (booking.services.bookings.occupancy):
    a line with its components, a component alone."""
    return [item, *item.components]


class _Loader:
    """One load: the rows found or created so far, by natural key, and the counts."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.today = now.astimezone(PARIS).date()
        self.monday = self.today + timedelta(days=7 - self.today.weekday())  # next Monday
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.projects: dict[str, Project] = {}

    def _find(self, model: Any, column: Any, keys: list[str]) -> dict[str, Any]:
        rows = self.session.scalars(select(model).where(column.in_(keys)))
        return {getattr(row, column.key): row for row in rows}

    def _add(self, kind: str, row: Any) -> Any:
        self.session.add(row)
        self.counts[kind] += 1
        return row

    def add_establishments(self) -> None:
        self.est = self._find(Establishment, Establishment.code, [e[0] for e in ESTABLISHMENTS])
        for code, name, city, department, kind in ESTABLISHMENTS:
            if code not in self.est:
                self.est[code] = self._add("establishments", Establishment(
                    code=code, name=name, city=city, department=department, kind=kind,
                    timezone="Europe/Paris", created_at=self.now))

    def add_companies(self) -> None:
        rows = self.session.scalars(select(Company).where(
            func.lower(Company.name).in_([name.lower() for name in COMPANIES])))
        by_lower = {row.name.lower(): row for row in rows}
        self.companies = {name: by_lower.get(name.lower()) or self._add(
            "companies", Company(name=name, created_at=self.now)) for name in COMPANIES}

    def add_types(self) -> None:
        self.types = self._find(CertificationType, CertificationType.code,
                                [t[0] for t in CERTIFICATION_TYPES])
        for code, name, months, description in CERTIFICATION_TYPES:
            if code not in self.types:
                self.types[code] = self._add("certification_types", CertificationType(
                    code=code, name=name, validity_months=months, description=description))

    def add_equipment(self) -> None:
        self.equipment = self._find(Equipment, Equipment.code, [e["code"] for e in EQUIPMENT])
        for spec in ({**EQUIPMENT_DEFAULTS, **e} for e in EQUIPMENT):
            if spec["code"] in self.equipment:
                continue
            parent = self.equipment[spec["parent"]] if spec["parent"] else None
            # A component takes its line's establishment and opening hours.
            hours = ([(h.weekday, h.opens, h.closes) for h in parent.opening_hours] if parent
                     else [(d, time.fromisoformat(o), time.fromisoformat(c))
                           for d, o, c in spec["hours"]])
            self.equipment[spec["code"]] = self._add("equipment", Equipment(
                code=spec["code"], name=spec["name"], description=spec["description"],
                location=spec["location"], category=spec["cat"], status=spec["status"],
                establishment=parent.establishment if parent else self.est[spec["est"]],
                status_reason=spec["reason"], parent=parent, capacity=spec["capacity"],
                slot_minutes=spec["slot"], min_minutes=spec["min"], max_minutes=spec["max"],
                changeover_minutes=spec["changeover"], requires_approval=spec["approval"],
                required_certification_types=[self.types[c] for c in spec["certs"]],
                opening_hours=[OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours],
                created_at=self.now, updated_at=self.now))
            self.counts["opening_hours"] += len(hours)

    def add_users(self) -> None:
        self.users = self._find(User, User.email, [u[0] for u in USERS])
        for email, name, role, establishment, company in USERS:
            if email not in self.users:
                self.users[email] = create_user(
                    self.session, email=email, name=name, role=role.value, password=PASSWORD,
                    now=self.now, establishment_code=establishment, company_name=company)
                self.counts["users"] += 1

    def add_certifications(self) -> None:
        held = {(user_id, type_id) for user_id, type_id in self.session.execute(
            select(Certification.user_id, Certification.certification_type_id)
            .where(Certification.user_id.in_([u.id for u in self.users.values()])))}
        for email, code, expires_in, granter in CERTIFICATIONS:
            user, kind = self.users[email], self.types[code]
            if (user.id, kind.id) in held:
                continue
            until = self.today + timedelta(days=expires_in)
            first = _add_months(until, -kind.validity_months) + timedelta(days=1)
            self._add("certifications", Certification(
                user_id=user.id, certification_type_id=kind.id, valid_from=first,
                valid_until=until, granted_by_id=self.users[granter].id,
                granted_at=min(self.now, _local(first, "09:00"))))

    def add_projects(self) -> None:
        for spec in PROJECTS:
            company, requester = self.companies[spec["company"]], self.users[spec["by"]]
            project = self.session.scalar(select(Project).where(
                Project.company_id == company.id, Project.title == spec["title"]))
            if project is None:
                decider = self.users.get(spec["decided_by"] or "")
                first, last = spec["weeks"]
                project = self._add("projects", Project(
                    company=company, requested_by=requester, title=spec["title"],
                    description=spec["description"], objectives=spec["objectives"],
                    learners=spec["learners"], wanted_from=self.monday + timedelta(weeks=first),
                    wanted_to=self.monday + timedelta(weeks=last, days=4),
                    contact_name=requester.name, contact_email=requester.email,
                    status=spec["status"], trainer=self.users.get(spec["trainer"] or ""),
                    decided_by_id=decider.id if decider else None,
                    decided_at=self.now if decider else None, decision_reason=spec["reason"],
                    equipment=[self.equipment[code] for code in spec["equipment"]],
                    created_at=self.now, updated_at=self.now))
            self.projects[spec["key"]] = project

    def add_closures(self) -> None:
        uids = [CLOSURE_UID.format(c[0]) for c in CLOSURES]
        existing = set(self.session.scalars(
            select(Closure.source_uid).where(Closure.source_uid.in_(uids))))
        for n, scope, code, week, weekday, days, kind, reason, creator in CLOSURES:
            if CLOSURE_UID.format(n) in existing:
                continue
            first = self.monday + timedelta(weeks=week, days=weekday)
            self._add("closures", Closure(
                establishment_id=self.est[code].id if scope == "establishment" else None,
                equipment_id=self.equipment[code].id if scope == "equipment" else None,
                start_at=_local(first, "00:00"),
                end_at=_local(first + timedelta(days=days), "00:00"), kind=kind, reason=reason,
                source_uid=CLOSURE_UID.format(n), created_by_id=self.users[creator].id,
                created_at=self.now))

    def add_bookings(self) -> None:
        wanted = [(first + i, week, row) for first, *row in BOOKINGS
                  for i, week in enumerate(row[1])]
        uids = [BOOKING_UID.format(n) for n, _, _ in wanted]
        existing = set(self.session.scalars(select(Booking.uid).where(Booking.uid.in_(uids))))
        planner = _Planner(self.session, self.now)
        for n, week, (code, _, weekday, hhmm, minutes, title, purpose, status, trainer_email,
                      booker_email, participants, project_key) in wanted:
            if BOOKING_UID.format(n) in existing:
                continue
            item, trainer = self.equipment[code], self.users[trainer_email]
            offset = time.fromisoformat(hhmm)
            if (minutes % item.slot_minutes or not item.min_minutes <= minutes <= item.max_minutes
                    or (offset.hour * 60 + offset.minute) % item.slot_minutes):
                raise ValueError(f"demo booking {n} breaks the rules of {code}")
            day = self.monday + timedelta(weeks=week, days=weekday)
            slot = planner.place(item, trainer, day, hhmm, minutes)
            if slot is None:  # the campus is already too busy around that day: leave it out
                continue
            booking = Booking(
                uid=BOOKING_UID.format(n), equipment=item, start_at=slot[0], end_at=slot[1],
                title=title, purpose=purpose, status=status, trainer=trainer,
                booked_by=self.users[booker_email], participants=participants,
                project=self.projects.get(project_key or ""), created_at=self.now,
                updated_at=self.now)
            self._settle(booking, item)

    def _settle(self, booking: Booking, item: Equipment) -> None:
        """Record the decision the booking rules call for, and what the booking occupies."""
        if booking.status is S.PENDING:
            booking.decision_deadline = min(
                self.now + timedelta(hours=item.approval_deadline_hours), booking.start_at)
        elif (item.requires_approval or booking.project is not None
              or booking.booked_by.establishment_id != item.establishment_id):
            decider = next((u for u in self.users.values() if u.role is Role.COORDINATOR
                            and u.establishment_id == item.establishment_id), None)
            booking.decided_by_id = decider.id if decider else None
            booking.decided_at = self.now
        until = booking.end_at + timedelta(minutes=item.changeover_minutes)
        booking.occupancies = [
            Occupancy(booking_status=booking.status, equipment_id=held.id,
                      starts_at=booking.start_at, ends_at=until)
            for held in _held(item)]
        self._add("bookings", booking)
        self.counts["occupancies"] += len(booking.occupancies)


class _Planner:
    """Moves each demo booking from its wished day to the first day where it passes the
    booking rules against everything already in the database and already planned."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.now = now
        self.public_holidays = holidays.France()
        self.busy: dict[Any, list[tuple[datetime, datetime]]] = defaultdict(list)
        for eq_id, start, end in session.execute(
            select(Occupancy.equipment_id, Occupancy.starts_at, Occupancy.ends_at).where(
                Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES), Occupancy.ends_at > now)):
            self.busy[eq_id].append((start, end))
        for trainer_id, start, end in session.execute(
            select(Booking.trainer_id, Booking.start_at, Booking.end_at).where(
                Booking.status.in_(SLOT_HOLDING_STATUSES), Booking.end_at > now,
                Booking.trainer_id.is_not(None))):
            self.busy["trainer", trainer_id].append((start, end))
        self.closures = session.execute(select(
            Closure.establishment_id, Closure.equipment_id, Closure.start_at, Closure.end_at
        ).where(Closure.end_at > now)).all()
        self.certifications: dict[tuple[int, int], list[Certification]] = defaultdict(list)
        for cert in session.scalars(select(Certification)):
            self.certifications[cert.user_id, cert.certification_type_id].append(cert)

    def place(self, item: Equipment, trainer: User, day: date, hhmm: str, minutes: int
              ) -> tuple[datetime, datetime] | None:
        for shift in range(SEARCH_DAYS):
            start = _local(day + timedelta(days=shift), hhmm)
            end = start + timedelta(minutes=minutes)
            if self._fits(item, trainer, start, end):
                until = end + timedelta(minutes=item.changeover_minutes)
                for held in _held(item):
                    self.busy[held.id].append((start, until))
                self.busy["trainer", trainer.id].append((start, end))
                return start, end
        return None

    def _fits(self, item: Equipment, trainer: User, start: datetime, end: datetime) -> bool:
        local_start, local_end = start.astimezone(PARIS), end.astimezone(PARIS)
        day = local_start.date()
        if start <= self.now or local_end.date() != day:
            return False
        if not any(h.weekday == day.weekday() and h.opens <= local_start.time()
                   and local_end.time() <= h.closes for h in item.opening_hours):
            return False
        if not item.open_on_holidays and day in self.public_holidays:
            return False
        held = _held(item)
        ids = {h.id for h in held}
        if any(c.start_at < end and start < c.end_at
               and (c.equipment_id in ids or c.establishment_id == item.establishment_id)
               for c in self.closures):
            return False
        required = {t.id for e in [item, *item.components] for t in e.required_certification_types}
        if not all(any(c.covers(day, day) for c in self.certifications[trainer.id, t])
                   for t in required):
            return False
        until = end + timedelta(minutes=item.changeover_minutes)
        spans = [(h.id, until) for h in held] + [(("trainer", trainer.id), end)]
        return not any(s < stop and start < e for key, stop in spans for s, e in self.busy[key])
