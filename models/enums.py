"""The enumerations of API.md; their values are part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class EstablishmentKind(StrEnum):
    LYCEE = "lycee"
    UNIVERSITE = "universite"
    ECOLE = "ecole"
    ORGANISME_FORMATION = "organisme_formation"
    ENTREPRISE = "entreprise"


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    COMPANY = "company"


class EquipmentCategory(StrEnum):
    PILOT_LINE = "pilot_line"
    TRAINING_EQUIPMENT = "training_equipment"
    ANALYSIS_INSTRUMENT = "analysis_instrument"
    ROOM = "room"
    OTHER = "other"


class EquipmentStatus(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class BookingPurpose(StrEnum):
    TRAINING = "training"
    INDUSTRIAL_PROJECT = "industrial_project"
    DISCOVERY_WORKSHOP = "discovery_workshop"
    MAINTENANCE = "maintenance"
    OTHER = "other"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    COMPLETED = "completed"
    # Not checked in by the end of its machine's grace period: released by the
    # scheduler, its slot freed (not slot-holding).
    NO_SHOW = "no_show"


# Statuses whose booking holds its slot; the PostgreSQL exclusion constraint and
# the SQLite trigger on occupancy use exactly this list.
SLOT_HOLDING_STATUSES: tuple[BookingStatus, ...] = (
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
)


class ProjectStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ClosureKind(StrEnum):
    MAINTENANCE = "maintenance"
    HOLIDAYS = "holidays"
    SHUTDOWN = "shutdown"
    OTHER = "other"


class CertificationRequestStatus(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    DECLINED = "declined"


class FeedScope(StrEnum):
    EQUIPMENT = "equipment"
    ESTABLISHMENT = "establishment"
    TRAINER = "trainer"
    PROJECT = "project"
    COMPANY = "company"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class QuotaAppliesTo(StrEnum):
    """Whose use a quota counts: each establishment's, or each user's."""

    ESTABLISHMENT = "establishment"
    USER = "user"


class QuotaPeriod(StrEnum):
    WEEK = "week"
    MONTH = "month"
    SCHOOL_YEAR = "school_year"


class QuotaOver(StrEnum):
    """What a booking past the quota gets: refused, or sent for approval."""

    REFUSE = "refuse"
    APPROVAL = "approval"
