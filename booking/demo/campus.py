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

from booking.services.accounts import create_user
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
LINE_M2 = "TP conditionnement — Master 2 industrie pharmaceutique"
SUN_FILL = "Lot pilote crème solaire — conditionnement"
SUN_MIX = "Lot pilote crème solaire — fabrication de l'émulsion"
ZAC_INIT = "Habillage et accès en ZAC — initiation"
HPLC_QC = "Dosage HPLC d'un sérum — contrôle qualité"
BENCH = "Maintenance conditionnelle — capteurs connectés"
RECONV = "Cobotique pour la reconversion — module {}"
# n, equipment, week, weekday (0 = Monday), start, minutes, title, purpose, status, trainer,
# booked by, participants, project. Tuesday mornings of ORL-COBOT-01 stay free: the demo
# story has the trainer book them himself.
BOOKINGS = [
    (1, "ORL-COBOT-01", 0, 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED, JULIEN, JULIEN,
     12, None),
    (2, "ORL-COBOT-01", 1, 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED, JULIEN, JULIEN,
     12, None),
    (3, "ORL-COBOT-01", 2, 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED, JULIEN, JULIEN,
     12, None),
    (4, "ORL-COBOT-01", 3, 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED, JULIEN, JULIEN,
     12, None),
    (5, "ORL-COBOT-01", 4, 3, "14:00", 180, COBOT_BAC, P.TRAINING, S.CONFIRMED, JULIEN, JULIEN,
     12, None),
    (6, "ORL-COBOT-01", 1, 0, "08:30", 120, "Atelier découverte de la cobotique — collégiens",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, JULIEN, JULIEN, 10, None),
    (7, "TRS-JUM-01", 2, 2, "09:00", 180, "Jumeau numérique de la ligne de conditionnement",
     P.TRAINING, S.PENDING, JULIEN, JULIEN, 12, None),
    (8, "BLO-TEXT-01", 1, 4, "09:00", 120, "Texture des crèmes — BTS métiers de la chimie",
     P.TRAINING, S.CONFIRMED, JULIEN, C_BLOIS, 12, None),
    (9, "TRS-LC-01", 0, 1, "08:00", 240, LINE_M2, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8,
     None),
    (10, "TRS-LC-01", 1, 1, "08:00", 240, LINE_M2, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8,
     None),
    (11, "TRS-LC-01", 2, 1, "08:00", 240, LINE_M2, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8,
     None),
    (12, "TRS-LC-01", 0, 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, S.CONFIRMED, CLAIRE,
     C_TOURS, 8, "solaire"),
    (13, "TRS-LC-01", 2, 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, S.PENDING, CLAIRE,
     C_TOURS, 8, "solaire"),
    (14, "TRS-LC-01-ETIQ", 1, 2, "09:00", 180, "Changement de format de l'étiqueteuse",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 4, None),
    (15, "TRS-LC-01-REMP", 1, 2, "13:30", 120, "Validation du dosage de la remplisseuse",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 4, None),
    (16, "TRS-REA-01", 0, 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, S.CONFIRMED, CLAIRE,
     C_TOURS, 8, "solaire"),
    (17, "TRS-REA-01", 0, 2, "09:00", 180, "Émulsification H/E — licence professionnelle",
     P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8, None),
    (18, "TRS-REA-01", 1, 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, S.PENDING, CLAIRE,
     C_TOURS, 8, "solaire"),
    (19, "TRS-ZAC-01", 0, 4, "09:00", 180, ZAC_INIT, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8,
     None),
    (20, "TRS-ZAC-01", 2, 4, "09:00", 180, ZAC_INIT, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 8,
     None),
    (21, "TRS-ZAC-01", 3, 1, "14:00", 120, "Audit BPF de la zone à atmosphère contrôlée",
     P.OTHER, S.PENDING, CLAIRE, CLAIRE, 4, None),
    (22, "TRS-HPLC-01", 1, 3, "09:00", 240, HPLC_QC, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 6,
     None),
    (23, "TRS-HPLC-01", 3, 3, "09:00", 240, HPLC_QC, P.TRAINING, S.CONFIRMED, CLAIRE, CLAIRE, 6,
     None),
    (24, "TRS-LC-01", 3, 0, "08:00", 240, "Maintenance préventive de la ligne", P.MAINTENANCE,
     S.CONFIRMED, CLAIRE, C_TOURS, None, None),
    (25, "CHA-COBOT-01", 0, 1, "09:00", 240, RECONV.format(1), P.TRAINING, S.CONFIRMED, KARIM,
     KARIM, 10, None),
    (26, "CHA-COBOT-01", 1, 1, "09:00", 240, RECONV.format(2), P.TRAINING, S.CONFIRMED, KARIM,
     KARIM, 10, None),
    (27, "CHA-COBOT-01", 2, 1, "09:00", 240, RECONV.format(3), P.TRAINING, S.CONFIRMED, KARIM,
     KARIM, 10, None),
    (28, "CHA-COBOT-01", 1, 5, "08:00", 240, "Portes ouvertes — démonstration de cobot",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, KARIM, C_CHARTRES, 12, None),
    (29, "DRX-MAINT-01", 0, 2, "13:30", 180, BENCH, P.TRAINING, S.CONFIRMED, SOPHIE, SOPHIE, 10,
     None),
    (30, "DRX-MAINT-01", 1, 2, "13:30", 180, BENCH, P.TRAINING, S.CONFIRMED, SOPHIE, SOPHIE, 10,
     None),
    (31, "DRX-MAINT-01", 2, 2, "13:30", 180, BENCH, P.TRAINING, S.CONFIRMED, SOPHIE, SOPHIE, 10,
     None),
    (32, "BLO-TEXT-01", 2, 4, "14:00", 120, "Découverte des métiers de la cosmétique",
     P.DISCOVERY_WORKSHOP, S.CONFIRMED, SOPHIE, C_BLOIS, 15, None),
    (33, "CHA-COBOT-01", 3, 0, "09:00", 180, "Cobot et maintenance 4.0 — BTS MS", P.TRAINING,
     S.PENDING, SOPHIE, SOPHIE, 10, None),
]

COUNT_KEYS = ("establishments", "companies", "certification_types", "equipment",
              "opening_hours", "users", "certifications", "projects", "closures", "bookings",
              "occupancies")


def load_demo_campus(session: Session, *, now: datetime) -> dict[str, int]:
    """Add whatever of the demo campus is missing; return the rows created, per kind."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    today = now.astimezone(PARIS).date()
    monday = today + timedelta(days=7 - today.weekday())  # bookings start the next week
    counts = dict.fromkeys(COUNT_KEYS, 0)
    establishments = _establishments(session, now, counts)
    companies = _companies(session, now, counts)
    cert_types = _certification_types(session, counts)
    equipment = _equipment(session, now, establishments, cert_types, counts)
    users = _users(session, now, counts)
    _certifications(session, now, today, users, cert_types, counts)
    projects = _projects(session, now, monday, companies, users, equipment, counts)
    _closures(session, now, monday, establishments, equipment, users, counts)
    session.flush()
    _bookings(session, now, monday, equipment, users, projects, counts)
    session.flush()
    return counts


def _local(day: date, hhmm: str) -> datetime:
    """The UTC instant of a Europe/Paris wall-clock time."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=PARIS).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _existing(session: Session, model: Any, column: Any, keys: list[str]) -> dict[str, Any]:
    return {getattr(row, column.key): row for row in session.scalars(
        select(model).where(column.in_(keys)))}


def _establishments(session: Session, now: datetime, counts: dict[str, int]
                    ) -> dict[str, Establishment]:
    found = _existing(session, Establishment, Establishment.code, [e[0] for e in ESTABLISHMENTS])
    for code, name, city, department, kind in ESTABLISHMENTS:
        if code not in found:
            found[code] = Establishment(code=code, name=name, city=city, department=department,
                                        kind=kind, timezone="Europe/Paris", created_at=now)
            session.add(found[code])
            counts["establishments"] += 1
    session.flush()
    return found


def _companies(session: Session, now: datetime, counts: dict[str, int]) -> dict[str, Company]:
    rows = session.scalars(select(Company).where(
        func.lower(Company.name).in_([name.lower() for name in COMPANIES])))
    by_lower = {row.name.lower(): row for row in rows}
    found = {}
    for name in COMPANIES:
        found[name] = by_lower.get(name.lower()) or Company(name=name, created_at=now)
        if found[name].id is None:
            session.add(found[name])
            counts["companies"] += 1
    session.flush()
    return found


def _certification_types(session: Session, counts: dict[str, int]
                         ) -> dict[str, CertificationType]:
    found = _existing(session, CertificationType, CertificationType.code,
                      [t[0] for t in CERTIFICATION_TYPES])
    for code, name, months, description in CERTIFICATION_TYPES:
        if code not in found:
            found[code] = CertificationType(code=code, name=name, validity_months=months,
                                            description=description)
            session.add(found[code])
            counts["certification_types"] += 1
    session.flush()
    return found


def _equipment(session: Session, now: datetime, establishments: dict[str, Establishment],
               cert_types: dict[str, CertificationType], counts: dict[str, int]
               ) -> dict[str, Equipment]:
    found = _existing(session, Equipment, Equipment.code, [e["code"] for e in EQUIPMENT])
    for spec in ({**EQUIPMENT_DEFAULTS, **e} for e in EQUIPMENT):
        if spec["code"] in found:
            continue
        parent = found[spec["parent"]] if spec["parent"] else None
        # A component takes its line's establishment and opening hours.
        hours = ([(h.weekday, h.opens, h.closes) for h in parent.opening_hours] if parent
                 else [(d, time.fromisoformat(o), time.fromisoformat(c))
                       for d, o, c in spec["hours"]])
        item = Equipment(
            code=spec["code"], name=spec["name"], description=spec["description"],
            location=spec["location"], category=spec["cat"], status=spec["status"],
            establishment=parent.establishment if parent else establishments[spec["est"]],
            status_reason=spec["reason"], parent=parent, capacity=spec["capacity"],
            slot_minutes=spec["slot"], min_minutes=spec["min"], max_minutes=spec["max"],
            changeover_minutes=spec["changeover"], requires_approval=spec["approval"],
            required_certification_types=[cert_types[c] for c in spec["certs"]],
            opening_hours=[OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours],
            created_at=now, updated_at=now,
        )
        session.add(item)
        found[spec["code"]] = item
        counts["equipment"] += 1
        counts["opening_hours"] += len(hours)
    session.flush()
    return found


def _users(session: Session, now: datetime, counts: dict[str, int]) -> dict[str, User]:
    found = _existing(session, User, User.email, [u[0] for u in USERS])
    for email, name, role, establishment, company in USERS:
        if email not in found:
            found[email] = create_user(
                session, email=email, name=name, role=role.value, password=PASSWORD, now=now,
                establishment_code=establishment, company_name=company)
            counts["users"] += 1
    return found


def _certifications(session: Session, now: datetime, today: date, users: dict[str, User],
                    cert_types: dict[str, CertificationType], counts: dict[str, int]) -> None:
    held = set(session.execute(
        select(Certification.user_id, Certification.certification_type_id)
        .where(Certification.user_id.in_([u.id for u in users.values()]))).tuples())
    for email, code, expires_in, granter in CERTIFICATIONS:
        user, kind = users[email], cert_types[code]
        if (user.id, kind.id) in held:
            continue
        until = today + timedelta(days=expires_in)
        first = _add_months(until, -kind.validity_months) + timedelta(days=1)
        session.add(Certification(
            user_id=user.id, certification_type_id=kind.id, valid_from=first,
            valid_until=until, granted_by_id=users[granter].id,
            granted_at=min(now, _local(first, "09:00"))))
        counts["certifications"] += 1
    session.flush()


def _projects(session: Session, now: datetime, monday: date, companies: dict[str, Company],
              users: dict[str, User], equipment: dict[str, Equipment], counts: dict[str, int]
              ) -> dict[str, Project]:
    found = {}
    for spec in PROJECTS:
        company, requester = companies[spec["company"]], users[spec["by"]]
        project = session.scalar(select(Project).where(
            Project.company_id == company.id, Project.title == spec["title"]))
        if project is None:
            decider = users.get(spec["decided_by"] or "")
            first, last = spec["weeks"]
            project = Project(
                company=company, requested_by=requester, title=spec["title"],
                description=spec["description"], objectives=spec["objectives"],
                learners=spec["learners"], wanted_from=monday + timedelta(weeks=first),
                wanted_to=monday + timedelta(weeks=last, days=4),
                contact_name=requester.name, contact_email=requester.email,
                status=spec["status"], trainer=users.get(spec["trainer"] or ""),
                decided_by_id=decider.id if decider else None,
                decided_at=now if decider else None, decision_reason=spec["reason"],
                equipment=[equipment[code] for code in spec["equipment"]],
                created_at=now, updated_at=now)
            session.add(project)
            counts["projects"] += 1
        found[spec["key"]] = project
    return found


def _closures(session: Session, now: datetime, monday: date,
              establishments: dict[str, Establishment], equipment: dict[str, Equipment],
              users: dict[str, User], counts: dict[str, int]) -> None:
    uids = [CLOSURE_UID.format(c[0]) for c in CLOSURES]
    existing = set(session.scalars(select(Closure.source_uid).where(Closure.source_uid.in_(uids))))
    for n, scope, code, week, weekday, days, kind, reason, creator in CLOSURES:
        if CLOSURE_UID.format(n) in existing:
            continue
        first = monday + timedelta(weeks=week, days=weekday)
        session.add(Closure(
            establishment_id=establishments[code].id if scope == "establishment" else None,
            equipment_id=equipment[code].id if scope == "equipment" else None,
            start_at=_local(first, "00:00"), end_at=_local(first + timedelta(days=days), "00:00"),
            kind=kind, reason=reason, source_uid=CLOSURE_UID.format(n),
            created_by_id=users[creator].id, created_at=now))
        counts["closures"] += 1


def _held(item: Equipment) -> list[Equipment]:
    """What a booking of ``item`` occupies: a line with its components, a component with
    its line (not its siblings)."""
    if item.components:
        return [item, *item.components]
    return [item, item.parent] if item.parent is not None else [item]


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


def _bookings(session: Session, now: datetime, monday: date, equipment: dict[str, Equipment],
              users: dict[str, User], projects: dict[str, Project], counts: dict[str, int]
              ) -> None:
    uids = [BOOKING_UID.format(b[0]) for b in BOOKINGS]
    existing = set(session.scalars(select(Booking.uid).where(Booking.uid.in_(uids))))
    planner = _Planner(session, now)
    coordinators = {u.establishment_id: u for u in users.values() if u.role is Role.COORDINATOR}
    for (n, code, week, weekday, hhmm, minutes, title, purpose, status, trainer_email,
         booker_email, participants, project_key) in BOOKINGS:
        uid = BOOKING_UID.format(n)
        if uid in existing:
            continue
        item, trainer, booker = equipment[code], users[trainer_email], users[booker_email]
        offset = time.fromisoformat(hhmm)
        if (minutes % item.slot_minutes or (offset.hour * 60 + offset.minute) % item.slot_minutes
                or not item.min_minutes <= minutes <= item.max_minutes):
            raise ValueError(f"demo booking {n} breaks the rules of {code}")
        slot = planner.place(item, trainer, monday + timedelta(weeks=week, days=weekday),
                             hhmm, minutes)
        if slot is None:  # the campus is already too busy around that day: leave it out
            continue
        start, end = slot
        project = projects.get(project_key or "")
        booking = Booking(
            uid=uid, equipment=item, start_at=start, end_at=end, title=title, purpose=purpose,
            status=status, booked_by=booker, trainer=trainer, project=project,
            participants=participants, created_at=now, updated_at=now)
        if status is S.PENDING:
            booking.decision_deadline = min(
                now + timedelta(hours=item.approval_deadline_hours), start)
        elif (item.requires_approval or project is not None
              or booker.establishment_id != item.establishment_id):
            decider = coordinators.get(item.establishment_id)
            booking.decided_by_id = decider.id if decider else None
            booking.decided_at = now
        until = end + timedelta(minutes=item.changeover_minutes)
        booking.occupancies = [
            Occupancy(booking_status=status, equipment_id=held.id, starts_at=start, ends_at=until)
            for held in _held(item)]
        session.add(booking)
        counts["bookings"] += 1
        counts["occupancies"] += len(booking.occupancies)
