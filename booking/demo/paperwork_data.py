"""The demo's continuing education (issue 15), as data: the establishments'
billing details and price lists, and the company project the demo carries
through every step (booking/demo/paperwork.py loads them through the services).

Figures are plausible for a French public training body in 2026 (a pilot line
hour for a company around 180 € HT, a trainer hour around 75 € HT); identifiers
(SIRET, VAT, declaration numbers) are made up and marked as such.
"""

from __future__ import annotations

from datetime import timedelta

from models import LearnerPublic, PriceKind, Public, Sector

C_TOURS = "coord.tours@plateforme.test"
CLAIRE = "formatrice.tours@plateforme.test"
LIGERIENS = "contact@laboratoires-ligeriens.test"
COSMETIQUES = "contact@cosmetiques-du-val.test"
ADMIN = "admin@plateforme.test"

BILLING_PROFILES = {  # establishment code: details (fictitious identifiers)
    "TRS-PHA": {
        "legal_name": "Université de Tours — Faculté de pharmacie",
        "address": "31 avenue Monge\n37200 Tours",
        "siret": "00000000000017", "vat_number": "FR00000000000",
        "training_declaration": "24370000037", "email": "formation-continue@pharma.test",
        "phone": "02 47 00 00 00", "signatory_name": "Isabelle Martin",
        "signatory_title": "Responsable de la plateforme pilote",
        "quote_validity_days": 30,
        "payment_terms": "Paiement à 30 jours à réception de la facture, par virement. "
                         "Organisme public : pas d'escompte pour paiement anticipé.",
        "analytic_code": "PHA-PLATEFORME", "account_machine_hour": "706300",
        "account_trainer_hour": "706100", "account_consumable": "707000",
        "account_flat_fee": "706800",
    },
    "ORL-LYC": {
        "legal_name": "Lycée Val de Loire — GRETA Centre-Val de Loire",
        "address": "12 rue des Métiers\n45000 Orléans",
        "siret": "00000000000025", "vat_number": "",
        "training_declaration": "24450000045", "email": "greta@lycee-val-de-loire.test",
        "phone": "02 38 00 00 00", "signatory_name": "Philippe Bernard",
        "signatory_title": "Coordinateur de la plateforme", "quote_validity_days": 45,
        "payment_terms": "Paiement à 30 jours à réception de la facture.",
        "analytic_code": "LYC-COBOT", "account_machine_hour": "706300",
        "account_trainer_hour": "706100", "account_consumable": "707000",
        "account_flat_fee": "706800",
    },
}

# Machine hours per public (cents HT); an establishment's own users pay nothing.
MACHINE_RATES = {  # code: {public: cents}
    "TRS-LC-01": {Public.OWN: 0, Public.CAMPUS: 6000, Public.ACADEMIC: 9000,
                  Public.COMPANY: 18000, Public.JOB_SEEKERS: 4500},
    "TRS-REA-01": {Public.OWN: 0, Public.CAMPUS: 5000, Public.ACADEMIC: 8000,
                   Public.COMPANY: 15000, Public.JOB_SEEKERS: 4000},
    "TRS-ZAC-01": {Public.OWN: 0, Public.CAMPUS: 4000, Public.ACADEMIC: 6000,
                   Public.COMPANY: 12000, Public.JOB_SEEKERS: 3000},
    "TRS-HPLC-01": {Public.OWN: 0, Public.CAMPUS: 3500, Public.ACADEMIC: 5000,
                    Public.COMPANY: 9000, Public.JOB_SEEKERS: 2500},
    "ORL-COBOT-01": {Public.OWN: 0, Public.CAMPUS: 2500, Public.ACADEMIC: 3500,
                     Public.COMPANY: 6000, Public.JOB_SEEKERS: 2000},
}
# Other items per establishment: kind, label, unit, {public: cents}, VAT (bp).
ITEMS = {
    "TRS-PHA": [
        (PriceKind.TRAINER_HOUR, "", "heure", {Public.COMPANY: 7500, Public.JOB_SEEKERS: 5500,
                                               Public.ACADEMIC: 6000}, 2000),
        (PriceKind.CONSUMABLE, "Matières premières d'un lot pilote (10 kg)", "lot",
         {Public.COMPANY: 42000, Public.JOB_SEEKERS: 42000}, 2000),
        (PriceKind.CONSUMABLE, "Tenues et consommables de zone propre", "stagiaire",
         {Public.COMPANY: 3500, Public.JOB_SEEKERS: 3500}, 2000),
        (PriceKind.FLAT_FEE, "Vide de ligne et nettoyage en fin de projet", "forfait",
         {Public.COMPANY: 25000}, 2000),
    ],
    "ORL-LYC": [
        (PriceKind.TRAINER_HOUR, "", "heure", {Public.COMPANY: 6000, Public.JOB_SEEKERS: 4500},
         2000),
    ],
}
# A price change: the pilot line's company rate rises from the 1st of next month
# (an issued quote keeps the old one).
RATE_CHANGE = ("TRS-LC-01", Public.COMPANY, 19500)

# The project the demo carries through every step: requested six weeks ago,
# quoted, accepted, agreement signed, two days of sessions three weeks ago
# (attendance signed per half-day by Claire, countersigned by the company),
# completed, satisfaction answered, invoice lines ready.
DONE = {
    "company": "Laboratoires Ligériens", "by": LIGERIENS, "sector": Sector.PHARMACEUTICAL,
    "title": "Bonnes pratiques de fabrication — opérateurs de conditionnement",
    "learners": 4, "requested_before": timedelta(weeks=6),
    "description": "Deux journées sur le réacteur d'émulsion et la ligne pilote pour "
    "quatre opérateurs avant le démarrage d'une ligne de crèmes dermatologiques.",
    "objectives": "Conduire une fabrication et un conditionnement en respectant les BPF : "
    "habillage, vide de ligne, contrôles en cours de production, traçabilité du lot.",
    "equipment": ("TRS-REA-01", "TRS-LC-01"), "trainer": CLAIRE, "coordinator": C_TOURS,
    # sessions: equipment, weekday of the week three weeks before last, start, minutes
    "sessions": [("TRS-REA-01", 1, "09:00", 420), ("TRS-LC-01", 2, "09:00", 420)],
    "quote": [  # kind, equipment or label, quantity in hundredths
        (PriceKind.MACHINE_HOUR, "TRS-REA-01", 700),
        (PriceKind.MACHINE_HOUR, "TRS-LC-01", 700),
        (PriceKind.TRAINER_HOUR, "", 1400),
        (PriceKind.CONSUMABLE, "Matières premières d'un lot pilote (10 kg)", 100),
        (PriceKind.CONSUMABLE, "Tenues et consommables de zone propre", 400),
    ],
    "discount_bp": 500,  # 5 % for a first project
    "learner_rows": [  # first, last, e-mail, public
        ("Léa", "Garnier", "lea.garnier@laboratoires-ligeriens.test", LearnerPublic.EMPLOYEE),
        ("Hugo", "Lambert", "hugo.lambert@laboratoires-ligeriens.test",
         LearnerPublic.EMPLOYEE),
        ("Inès", "Faure", None, LearnerPublic.APPRENTICE),
        ("Yanis", "Morel", "yanis.morel@exemple.test", LearnerPublic.JOB_SEEKER),
    ],
    # what happened: (learner index, session index, half-day index) -> (presence, minutes late)
    "exceptions": {(1, 0, 0): ("late", 20), (3, 1, 1): ("absent", 0)},
    "surveys": {  # who answered: contact and learner indexes -> ratings, recommend, comment
        "contact": ((5, 5, 5, 4, 4, 5), True, "Formation concrète, opérateurs autonomes "
                    "dès le démarrage de notre ligne."),
        0: ((5, 4, 5, 5, 4, 5), True, "Très bien d'avoir manipulé sur la vraie ligne."),
        3: ((4, 4, 5, 3, 3, 4), True, ""),
    },
}
