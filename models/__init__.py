"""SQLAlchemy models of Plateforme, one module per aggregate."""

from models.account_link import AccountLink, LinkPurpose
from models.audit import AuditEntry
from models.base import Base, UTCDateTime, utcnow
from models.booking import Booking, BookingSeries, Occupancy
from models.certification import Certification, CertificationRequest, CertificationType
from models.closure import Closure
from models.enums import (
    SLOT_HOLDING_STATUSES,
    BookingPurpose,
    BookingStatus,
    CertificationRequestStatus,
    ClosureKind,
    EquipmentCategory,
    EquipmentStatus,
    EstablishmentKind,
    FeedScope,
    OutboxStatus,
    ProjectStatus,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    Role,
)
from models.equipment import Equipment, OpeningHours, equipment_certification_type
from models.equipment_document import DocumentKind, EquipmentDocument
from models.establishment import Company, Establishment
from models.feed import Feed
from models.identity import (
    PROVIDER_KINDS,
    AnsweredSignInRequest,
    IdentityLink,
    IdentityProvider,
)
from models.incident import Incident
from models.kiosk import KioskLink, KioskScope
from models.outbox import OutboxMessage
from models.project import Project, project_equipment
from models.scheduler import JobRun, SchedulerLease
from models.sharing import MAX_TRAVEL_MINUTES, CampusSetting, Quota, TravelTime
from models.user import ApiToken, LoginSession, User
from models.waitlist import WaitlistEntry, WaitlistStatus

__all__ = [
    "MAX_TRAVEL_MINUTES",
    "PROVIDER_KINDS",
    "SLOT_HOLDING_STATUSES",
    "AccountLink",
    "AnsweredSignInRequest",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingPurpose",
    "BookingSeries",
    "BookingStatus",
    "CampusSetting",
    "Certification",
    "CertificationRequest",
    "CertificationRequestStatus",
    "CertificationType",
    "Closure",
    "ClosureKind",
    "Company",
    "DocumentKind",
    "Equipment",
    "EquipmentCategory",
    "EquipmentDocument",
    "EquipmentStatus",
    "Establishment",
    "EstablishmentKind",
    "Feed",
    "FeedScope",
    "IdentityLink",
    "IdentityProvider",
    "Incident",
    "JobRun",
    "KioskLink",
    "KioskScope",
    "LinkPurpose",
    "LoginSession",
    "Occupancy",
    "OpeningHours",
    "OutboxMessage",
    "OutboxStatus",
    "Project",
    "ProjectStatus",
    "Quota",
    "QuotaAppliesTo",
    "QuotaOver",
    "QuotaPeriod",
    "Role",
    "SchedulerLease",
    "TravelTime",
    "UTCDateTime",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
    "equipment_certification_type",
    "project_equipment",
    "utcnow",
]
