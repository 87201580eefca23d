"""The demo campus: what a newcomer sees at the first start of the platform.

An empty booking system explains nothing, so this module loads the CosmetoPharma
Centre-Val de Loire campus of PRODUCT.md, in French: establishments of the four
départements, the pilot packaging line and its components, the emulsion reactor,
the cleanroom, cobot cells and instruments, certified (and not so certified)
trainers, two companies with their projects, and a few weeks of bookings.

Projects and bookings go through the services, each made by the account the story
names (a company requests, a coordinator approves; a trainer books, or a
coordinator books for a trainer), so the demo passes every rule the application
applies and can never show what the application itself would refuse. A booking
the service refuses on its wished day (holiday, closure, conflict, a trainer not
certified that day...) slides to the next day, a bounded number of times.

Issue 14's stories: check-in at the machine is required on the pilot lines;
last week's sessions there were checked in and out (one with an incident its
trainer reported, still open), one nobody came to was released as a no-show;
and a cobot slot freed a while ago is offered to the first of two trainers in
line. Last week's bookings are made by the service as of a week before their
start; what happened at the machine (check-in, check-out, the incident, the
no-show release) is written as the check-in service and the scheduler write
it, with their audit entries, at the times they happened.

Loading is idempotent: rows are matched by their natural key (code, e-mail,
company name, project title, closure and booking uid) and existing rows are left
as they are, so a second call creates nothing. It flushes; the caller commits.
Booking notifications are not sent; approving a project tells its company
contact, as any approval does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.services import audit
from booking.services.accounts.operations import create_user
from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.certifications.operations import add_months, default_valid_until
from booking.services.equipment.hours import wall_clock, zone_of
from booking.services.errors import (
    BeyondHorizon,
    CertificationRequired,
    Closed,
    Conflict,
    InPast,
    NotOpenYet,
    OutsideOpeningHours,
    QuotaExceeded,
    TooShortNotice,
)
from booking.services.policy import CAMPUS_ZONE, Policy
from booking.services.projects.operations import approve_project, request_project
from booking.services.waitlist import operations as waitlist
from models import (
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
    Incident,
    OpeningHours,
    Project,
    ProjectStatus,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    Role,
    TravelTime,
    User,
    WaitlistEntry,
)

PASSWORD = "plateforme-demo"  # noqa: S105 - the published password of the demo accounts
BOOKING_UID = "demo-{}@plateforme.cosmetopharma"
CLOSURE_UID = "demo-closure-{}@plateforme.cosmetopharma"
SEARCH_DAYS = 21  # how many days a refused booking may slide from its wished day
# The refusals that depend on the day: the booking tries the next one. Any other
# refusal (grid, duration, capacity, who may book) is a mistake in the tables below.
DAY_REFUSALS = (Closed, OutsideOpeningHours, InPast, BeyondHorizon, Conflict,
                CertificationRequired, TooShortNotice, NotOpenYet, QuotaExceeded)
EK, EC, P = EstablishmentKind, EquipmentCategory, BookingPurpose

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
    # Booking windows (issue 13): notice in minutes, cancellation deadline in
    # hours, the owner's priority window in days (None: none).
    "notice": 0, "cancel_deadline": 0, "others_open": None,
    # Check-in at the machine (issue 14): required on the pilot lines only
    # (their category), within this many minutes after the start.
    "grace": 15,
}
LINE_PART: dict[str, Any] = {  # a component of the packaging line; hours come from the line
    "parent": "TRS-LC-01", "cat": EC.PILOT_LINE, "capacity": 4, "changeover": 30,
    "approval": True, "certs": ("GMP-ZAC", "LIGNE-COND"), "location": "Bâtiment B, ZAC 2",
}
EQUIPMENT: list[dict[str, Any]] = [  # a line comes before its components
    {"code": "TRS-LC-01", "name": "Ligne pilote de conditionnement", "est": "TRS-PHA",
     "cat": EC.PILOT_LINE, "location": "Bâtiment B, ZAC 2", "capacity": 8,
     "certs": ("GMP-ZAC", "LIGNE-COND"), "changeover": 60, "approval": True,
     "notice": 24 * 60, "cancel_deadline": 48,
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
     "cat": EC.PILOT_LINE, "location": "Bâtiment B, ZAC 1", "capacity": 8, "grace": 20,
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
     "changeover": 15, "others_open": 14,
     "description": "Bras collaboratif 6 axes avec préhenseur, convoyeur et vision : "
     "prise et dépose de flacons, palettisation."},
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

# Minutes between two sites for a trainer (issue 13); other pairs take the
# campus default (60). Tours–Orléans: Julien's Tuesday at Polytech (booking 34)
# keeps him from the Orléans cobot cell until 13:15.
TRAVEL_TIMES = [("TRS-PHA", "TRS-POL", 15), ("TRS-POL", "ORL-LYC", 75), ("TRS-PHA", "ORL-LYC", 75),
                ("ORL-LYC", "BLO-LYC", 45), ("TRS-PHA", "BLO-LYC", 50), ("CHA-OF", "DRX-LYC", 40),
                ("ORL-LYC", "CHA-OF", 75), ("ORL-LYC", "DRX-LYC", 100)]
# The Chartres cobot cell is shared by Chartres, Orléans and Dreux: each other
# establishment books at most 8 h a month, and each user 3 future sessions.
# code or (category, establishment), applies to, period, hours, future bookings, over
QUOTAS = [("CHA-COBOT-01", QuotaAppliesTo.ESTABLISHMENT, QuotaPeriod.MONTH, 8, None,
           QuotaOver.REFUSE, C_CHARTRES),
          ("CHA-COBOT-01", QuotaAppliesTo.USER, QuotaPeriod.MONTH, None, 3, QuotaOver.APPROVAL,
           C_CHARTRES)]

COBOT_BAC = "Programmation d'un cobot — Bac pro PCEPC"
SUN_FILL = "Lot pilote crème solaire — conditionnement"
SUN_MIX = "Lot pilote crème solaire — fabrication de l'émulsion"
# A row books the same slot in each of its weeks (counted from the next Monday); booking
# number ``first + i`` (its uid) is the row's i-th week. Weekday 0 is Monday. Who books
# decides the status, as rule 6 says: a coordinator of the owning establishment confirms
# at once, so the bookings the story shows as confirmed on a machine that requires
# approval are made by the coordinator for the trainer; those left pending are asked for
# by a trainer (on such a machine, for a project, or outside their establishment). No
# booking of ORL-COBOT-01 is on (or moved by a holiday to) a Tuesday: in the demo story
# the trainer books every Tuesday morning there himself.
# first, equipment, weeks, weekday, start, minutes, title, purpose, trainer, booked by,
# participants, project
BOOKINGS = [
    (1, "ORL-COBOT-01", (0, 1, 2, 3, 4), 3, "14:00", 180, COBOT_BAC, P.TRAINING, JULIEN, JULIEN,
     12, None),
    (6, "ORL-COBOT-01", (2,), 4, "09:00", 120, "Atelier découverte de la cobotique — collégiens",
     P.DISCOVERY_WORKSHOP, JULIEN, JULIEN, 10, None),
    (7, "TRS-JUM-01", (2,), 2, "09:00", 180, "Jumeau numérique de la ligne de conditionnement",
     P.TRAINING, JULIEN, JULIEN, 12, None),  # pending: outside his establishment
    (8, "BLO-TEXT-01", (1,), 4, "09:00", 120, "Texture des crèmes — BTS métiers de la chimie",
     P.TRAINING, JULIEN, C_BLOIS, 12, None),
    (9, "TRS-LC-01", (0, 1, 2), 1, "08:00", 240, "TP conditionnement — Master 2 pharmacie "
     "industrielle", P.TRAINING, CLAIRE, C_TOURS, 8, None),
    (12, "TRS-LC-01", (0,), 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, CLAIRE, C_TOURS, 8,
     "solaire"),
    (13, "TRS-LC-01", (2,), 3, "13:00", 300, SUN_FILL, P.INDUSTRIAL_PROJECT, CLAIRE, CLAIRE, 8,
     "solaire"),  # pending: a project session asked for by its trainer
    (14, "TRS-LC-01-ETIQ", (1,), 2, "09:00", 180, "Changement de format de l'étiqueteuse",
     P.TRAINING, CLAIRE, C_TOURS, 4, None),
    (15, "TRS-LC-01-REMP", (1,), 2, "13:30", 120, "Validation du dosage de la remplisseuse",
     P.TRAINING, CLAIRE, C_TOURS, 4, None),
    (16, "TRS-REA-01", (0,), 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, CLAIRE, C_TOURS, 8,
     "solaire"),
    (17, "TRS-REA-01", (0,), 2, "09:00", 180, "Émulsification H/E — licence professionnelle",
     P.TRAINING, CLAIRE, C_TOURS, 8, None),
    (18, "TRS-REA-01", (1,), 0, "09:00", 240, SUN_MIX, P.INDUSTRIAL_PROJECT, CLAIRE, CLAIRE, 8,
     "solaire"),  # pending
    (19, "TRS-ZAC-01", (0, 2), 4, "09:00", 180, "Habillage et accès en ZAC — initiation",
     P.TRAINING, CLAIRE, C_TOURS, 8, None),
    (21, "TRS-ZAC-01", (3,), 1, "14:00", 120, "Audit BPF de la zone à atmosphère contrôlée",
     P.OTHER, CLAIRE, CLAIRE, 4, None),  # pending: the cleanroom requires approval
    (22, "TRS-HPLC-01", (1, 3), 3, "09:00", 240, "Dosage HPLC d'un sérum — contrôle qualité",
     P.TRAINING, CLAIRE, CLAIRE, 6, None),
    (24, "TRS-LC-01", (3,), 0, "08:00", 240, "Maintenance préventive de la ligne",
     P.MAINTENANCE, CLAIRE, C_TOURS, None, None),
    (25, "CHA-COBOT-01", (0, 1, 2), 1, "09:00", 240, "Cobotique pour la reconversion "
     "professionnelle", P.TRAINING, KARIM, KARIM, 10, None),
    (28, "CHA-COBOT-01", (1,), 5, "08:00", 240, "Portes ouvertes — démonstration de cobot",
     P.DISCOVERY_WORKSHOP, KARIM, C_CHARTRES, 12, None),
    (29, "DRX-MAINT-01", (0, 1, 2), 2, "13:30", 180, "Maintenance conditionnelle — capteurs "
     "connectés", P.TRAINING, SOPHIE, SOPHIE, 10, None),
    (32, "BLO-TEXT-01", (2,), 4, "14:00", 120, "Découverte des métiers de la cosmétique",
     P.DISCOVERY_WORKSHOP, SOPHIE, C_BLOIS, 15, None),
    (33, "CHA-COBOT-01", (3,), 0, "09:00", 180, "Cobot et maintenance 4.0 — BTS MS", P.TRAINING,
     SOPHIE, SOPHIE, 10, None),  # pending: outside her establishment
    (34, "TRS-JUM-01", (2,), 1, "09:00", 180, "Jumeau numérique — démonstration aux BTS",
     P.TRAINING, JULIEN, C_POLYTECH, 12, None),  # his Tuesday at Tours (TRAVEL_TIMES)
    (35, "CHA-COBOT-01", (1, 3), 3, "09:00", 180, "Cobotique — échange entre lycées",
     P.TRAINING, JULIEN, JULIEN, 10, None),  # pending: Orléans on the shared Chartres cell
]

# Last week on the pilot lines (issue 14): Claire's sessions, booked for her by the
# Tours coordinator a week ahead. What happened at the machine: "used" (checked in
# a few minutes after the start, out before the end), "incident" (used, and a
# problem reported at check-out, still open in the coordinator's inbox), "no_show"
# (nobody checked in: released by the scheduler at the end of the grace period).
# A refused day slides to an earlier one. Weekday 0 is last week's Monday.
# key, equipment, weekday, start, minutes, title, participants, what happened
PAST = [
    ("past-1", "TRS-REA-01", 0, "09:00", 240, "Émulsification E/H — BTS métiers de la chimie",
     8, "used"),
    ("past-2", "TRS-LC-01", 1, "08:00", 240, "TP conditionnement — Master 2 pharmacie "
     "industrielle", 8, "used"),
    ("past-3", "TRS-LC-01-REMP", 2, "09:00", 180, "Réglage des becs de la remplisseuse", 4,
     "incident"),
    ("past-4", "TRS-LC-01-ETIQ", 3, "14:00", 120, "Étiquetage — impression du lot et de la "
     "date de péremption", 4, "no_show"),
    ("past-5", "TRS-REA-01", 4, "09:00", 180, "Nettoyage en place du réacteur — licence "
     "professionnelle", 8, "used"),
]
PAST_BOOKED_AHEAD = timedelta(days=7)
CHECKED_IN_AFTER = timedelta(minutes=7)  # after the start, within every grace period
CHECKED_OUT_BEFORE = timedelta(minutes=20)  # before the end
INCIDENT = ("Fuite sur la buse de remplissage n° 2 : une goutte de crème tombe après chaque "
            "dose et souille les flacons. Buse démontée et nettoyée, la fuite reprend : "
            "joint à changer avant la prochaine séance.")

# The waiting list: Julien booked a Friday morning of his cobot cell three days
# ago; Karim, then Sophie, joined its waiting list; Julien cancelled it this
# morning, and the waiting-list job offered the slot to Karim, first in line, for
# two hours (his dashboard); Sophie waits behind him (her waiting lists).
# key, equipment, weekday of the next week, start, minutes, title
WAITLIST_SLOT = ("waitlist-1", "ORL-COBOT-01", 4, "09:00", 180,
                 "Préparation au concours des métiers — cobotique")
WAITLIST_BOOKED_BEFORE = timedelta(days=3)
# who joined, how long before now, the title of their request
WAITLIST_LINE = [(KARIM, timedelta(hours=26), "Démonstration de cobot — stagiaires en "
                  "reconversion"),
                 (SOPHIE, timedelta(hours=5), "Cobotique — BTS maintenance des systèmes")]
WAITLIST_FREED_BEFORE = timedelta(minutes=20)
WAITLIST_OFFERED_BEFORE = timedelta(minutes=15)  # the job's next run
WAITLIST_CANCEL_REASON = "Séance reportée : les élèves partent en stage cette semaine-là."

COUNT_KEYS = ("establishments", "companies", "certification_types", "equipment",
              "opening_hours", "users", "certifications", "projects", "closures", "bookings",
              "occupancies", "travel_times", "quotas", "waitlist_entries", "incidents",
              "prices", "quotes", "agreements", "learners", "attendance_sheets", "surveys")


def load_demo_campus(session: Session, *, now: datetime,
                     policy: Policy | None = None) -> dict[str, int]:
    """Add whatever of the demo campus is missing; return the rows created, per kind.
    ``policy`` is the app's (Policy.from_config), for the booking horizon."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    loader = _Loader(session, now.astimezone(UTC), policy or Policy())
    for step in (loader.add_establishments, loader.add_companies, loader.add_types,
                 loader.add_equipment, loader.add_users, loader.add_certifications,
                 loader.add_projects, loader.add_closures, loader.add_sharing,
                 loader.add_paperwork, loader.add_bookings, loader.add_past,
                 loader.add_waitlist):
        step()
        session.flush()
    return loader.counts


def _local(day: date, hhmm: str) -> datetime:
    """The UTC instant of a wall-clock time on the campus."""
    return wall_clock(day, time.fromisoformat(hhmm), CAMPUS_ZONE)


class _Loader:
    """One load: the rows found or created so far, by natural key, and the counts."""

    def __init__(self, session: Session, now: datetime, policy: Policy) -> None:
        self.session, self.now, self.policy = session, now, policy
        self.today = now.astimezone(CAMPUS_ZONE).date()
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
                    timezone=CAMPUS_ZONE.key, created_at=self.now))

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
                notice_minutes=spec["notice"], cancel_deadline_hours=spec["cancel_deadline"],
                others_open_days=spec["others_open"],
                check_in_required=spec["cat"] is EC.PILOT_LINE,
                check_in_grace_minutes=spec["grace"],
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
            # Granted as the certifications page grants: from ``first`` for the type's
            # validity, its end within a few days of ``expires_in`` (months differ in length).
            first = add_months(self.today + timedelta(days=expires_in), -kind.validity_months)
            until = default_valid_until(first, kind.validity_months)
            self._add("certifications", Certification(
                user_id=user.id, certification_type_id=kind.id, valid_from=first,
                valid_until=until, granted_by_id=self.users[granter].id,
                granted_at=min(self.now, _local(first, "09:00"))))

    def add_projects(self) -> None:
        """Requested by the company's contact; approved ones by their coordinator, who
        assigns the trainer (services.projects, their rules and their audit)."""
        for spec in PROJECTS:
            company, requester = self.companies[spec["company"]], self.users[spec["by"]]
            project = self.session.scalar(select(Project).where(
                Project.company_id == company.id, Project.title == spec["title"]))
            if project is None:
                first, last = spec["weeks"]
                project = request_project(
                    self.session, actor=requester, now=self.now, title=spec["title"],
                    learners=spec["learners"], wanted_from=self.monday + timedelta(weeks=first),
                    wanted_to=self.monday + timedelta(weeks=last, days=4),
                    equipment_ids=[self.equipment[code].id for code in spec["equipment"]],
                    description=spec["description"], objectives=spec["objectives"],
                    contact_name=requester.name, contact_email=requester.email, notify=False)
                if spec["status"] is ProjectStatus.APPROVED:
                    approve_project(self.session, project, actor=self.users[spec["decided_by"]],
                                    now=self.now, trainer_id=self.users[spec["trainer"]].id,
                                    reason=spec["reason"], notify=False)
                self.counts["projects"] += 1
            self.projects[spec["key"]] = project

    def add_paperwork(self) -> None:
        """Prices, quotes, agreements, learners, attendance, satisfaction (issue 15:
        booking/demo/paperwork.py)."""
        from booking.demo.paperwork import add_paperwork

        add_paperwork(self)

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

    def add_sharing(self) -> None:
        """Travel times between sites and the shared cell's quotas (issue 13)."""
        pairs = {(t.establishment_a_id, t.establishment_b_id)
                 for t in self.session.scalars(select(TravelTime))}
        for one, other, minutes in TRAVEL_TIMES:
            a, b = sorted((self.est[one].id, self.est[other].id))
            if (a, b) not in pairs:
                self._add("travel_times", TravelTime(establishment_a_id=a, establishment_b_id=b,
                                                     minutes=minutes, updated_at=self.now))
        for code, applies_to, period, hours, future, over, creator in QUOTAS:
            machine = self.equipment[code]
            if self.session.scalar(select(Quota.id).where(
                    Quota.equipment_id == machine.id, Quota.applies_to == applies_to)):
                continue
            self._add("quotas", Quota(
                establishment_id=machine.establishment_id, equipment_id=machine.id,
                applies_to=applies_to, period=period,
                max_minutes=hours * 60 if hours is not None else None,
                max_future_bookings=future, over=over, created_by_id=self.users[creator].id,
                created_at=self.now, updated_at=self.now))

    def add_bookings(self) -> None:
        wanted = [(first + i, week, row) for first, *row in BOOKINGS
                  for i, week in enumerate(row[1])]
        uids = [BOOKING_UID.format(n) for n, _, _ in wanted]
        existing = set(self.session.scalars(select(Booking.uid).where(Booking.uid.in_(uids))))
        for n, week, (code, _, weekday, hhmm, minutes, title, purpose, trainer_email,
                      booker_email, participants, project_key) in wanted:
            if BOOKING_UID.format(n) in existing:
                continue
            project = self.projects.get(project_key or "")
            booking = self._book(
                self.users[booker_email], self.equipment[code],
                self.monday + timedelta(weeks=week, days=weekday), time.fromisoformat(hhmm),
                timedelta(minutes=minutes), title=title, purpose=purpose,
                trainer_id=self.users[trainer_email].id, participants=participants,
                project_id=project.id if project is not None else None)
            if booking is None:  # the campus is already too busy around that day: leave it out
                continue
            booking.uid = BOOKING_UID.format(n)  # the demo's natural key, for the next load
            self.counts["bookings"] += 1
            self.counts["occupancies"] += len(booking.occupancies)

    def _book(self, actor: User, item: Equipment, day: date, at: time, duration: timedelta,
              *, booked_at: datetime | None = None, ahead: timedelta | None = None,
              step: int = 1, **fields: Any) -> Booking | None:
        """Book ``item`` through the booking service at ``at`` (its local time) on
        ``day``, or on the first following day the service accepts; None when it
        refuses them all. Booked at ``booked_at`` (now by default), or ``ahead``
        of its start; ``step=-1`` slides to earlier days (last week's sessions)."""
        zone = zone_of(item)
        for shift in range(SEARCH_DAYS):
            start = wall_clock(day + timedelta(days=step * shift), at, zone)
            request = BookingRequest(equipment_id=item.id, start=start, end=start + duration,
                                     **fields)
            at_time = start - ahead if ahead is not None else booked_at or self.now
            try:
                return create_booking(self.session, actor=actor, request=request, now=at_time,
                                      policy=self.policy, notify=False)
            except DAY_REFUSALS:
                continue
        return None

    def _existing(self, keys: list[str]) -> set[str]:
        uids = [BOOKING_UID.format(key) for key in keys]
        return set(self.session.scalars(select(Booking.uid).where(Booking.uid.in_(uids))))

    def _counted(self, booking: Booking, key: str) -> Booking:
        booking.uid = BOOKING_UID.format(key)
        self.counts["bookings"] += 1
        self.counts["occupancies"] += len(booking.occupancies)
        return booking

    def add_past(self) -> None:
        """Last week's sessions on the pilot lines and what happened at the machine."""
        existing = self._existing([row[0] for row in PAST])
        last_monday = self.monday - timedelta(weeks=2)
        coordinator, trainer = self.users[C_TOURS], self.users[CLAIRE]
        for key, code, weekday, hhmm, minutes, title, participants, outcome in PAST:
            if BOOKING_UID.format(key) in existing:
                continue
            booking = self._book(
                coordinator, self.equipment[code], last_monday + timedelta(days=weekday),
                time.fromisoformat(hhmm), timedelta(minutes=minutes), ahead=PAST_BOOKED_AHEAD,
                step=-1, title=title, purpose=P.TRAINING, trainer_id=trainer.id,
                participants=participants, project_id=None)
            if booking is None:
                continue
            self._counted(booking, key)
            if outcome == "no_show":
                self._no_show(booking)
            else:
                self._used(booking, incident=INCIDENT if outcome == "incident" else None)
            self.session.flush()

    def _used(self, booking: Booking, *, incident: str | None) -> None:
        """Checked in and out by its trainer (as the check-in service records it),
        then completed by the scheduler at its end."""
        trainer, machine = booking.trainer or booking.booked_by, booking.equipment_id
        booking.checked_in_at = booking.start_at + CHECKED_IN_AFTER
        audit.record(self.session, actor=trainer, action="booking.check_in",
                     object_type="booking", object_id=booking.id, now=booking.checked_in_at,
                     equipment_id=machine, trainer_id=trainer.id)
        booking.checked_out_at = booking.end_at - CHECKED_OUT_BEFORE
        audit.record(self.session, actor=trainer, action="booking.check_out",
                     object_type="booking", object_id=booking.id, now=booking.checked_out_at,
                     equipment_id=machine)
        if incident is not None:
            reported = self._add("incidents", Incident(
                equipment_id=machine, booking_id=booking.id, reported_by_id=trainer.id,
                reported_at=booking.checked_out_at, description=incident))
            self.session.flush()
            audit.record(self.session, actor=trainer, action="incident.report",
                         object_type="incident", object_id=reported.id,
                         now=booking.checked_out_at, equipment_id=machine,
                         booking_id=booking.id)
        booking.status = BookingStatus.COMPLETED
        booking.updated_at = booking.end_at
        audit.record(self.session, actor=None, action="booking.complete", object_type="booking",
                     object_id=booking.id, now=booking.end_at)

    def _no_show(self, booking: Booking) -> None:
        """Nobody checked in: the scheduler released it at the end of the grace period."""
        released = booking.start_at + timedelta(minutes=booking.equipment.check_in_grace_minutes)
        booking.status = BookingStatus.NO_SHOW
        booking.updated_at = released
        audit.record(self.session, actor=None, action="booking.no_show", object_type="booking",
                     object_id=booking.id, now=released, equipment_id=booking.equipment_id)

    def add_waitlist(self) -> None:
        """A freed cobot slot offered to the first of two trainers in line."""
        key, code, weekday, hhmm, minutes, title = WAITLIST_SLOT
        if self._existing([key]):
            return
        julien, cell = self.users[JULIEN], self.equipment[code]
        booking = self._book(julien, cell, self.monday + timedelta(days=weekday),
                             time.fromisoformat(hhmm), timedelta(minutes=minutes),
                             booked_at=self.now - WAITLIST_BOOKED_BEFORE, title=title,
                             purpose=P.TRAINING, trainer_id=julien.id, participants=10,
                             project_id=None)
        if booking is None:
            return
        self._counted(booking, key)
        line: list[WaitlistEntry] = []
        for email, before, wanted in WAITLIST_LINE:
            request = BookingRequest(equipment_id=cell.id, start=booking.start_at,
                                     end=booking.end_at, title=wanted, purpose=P.TRAINING)
            try:
                line.append(waitlist.join(self.session, actor=self.users[email],
                                          request=request, now=self.now - before,
                                          policy=self.policy))
            except DAY_REFUSALS:
                continue  # not this trainer, this time: the line is shorter
            self.counts["waitlist_entries"] += 1
        cancel_booking(self.session, actor=julien, booking=booking,
                       now=self.now - WAITLIST_FREED_BEFORE, reason=WAITLIST_CANCEL_REASON,
                       notify=False)
        if line:
            waitlist.offer(self.session, line[0], now=self.now - WAITLIST_OFFERED_BEFORE,
                           notify=False)
