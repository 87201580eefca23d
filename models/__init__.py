"""SQLAlchemy models of Plateforme, one module per aggregate."""

from models.account_link import AccountLink, LinkPurpose
from models.agreement import AgreementStatus, AgreementWaiver, TrainingAgreement
from models.attendance import (
    AttendanceMark,
    AttendanceSheet,
    HalfDay,
    Learner,
    LearnerPublic,
    Presence,
)
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
from models.pricing import AnalyticCode, BillingProfile, Price, PriceKind, Public
from models.project import Project, Sector, project_equipment
from models.quote import Quote, QuoteCounter, QuoteLine, QuoteStatus
from models.satisfaction import RATINGS, Respondent, SatisfactionSurvey
from models.scheduler import JobRun, SchedulerLease
from models.sharing import MAX_TRAVEL_MINUTES, CampusSetting, Quota, TravelTime
from models.user import ApiToken, LoginSession, User
from models.waitlist import WaitlistEntry, WaitlistStatus

__all__ = [
    "MAX_TRAVEL_MINUTES",
    "PROVIDER_KINDS",
    "RATINGS",
    "SLOT_HOLDING_STATUSES",
    "AccountLink",
    "AgreementStatus",
    "AgreementWaiver",
    "AnalyticCode",
    "AnsweredSignInRequest",
    "ApiToken",
    "AttendanceMark",
    "AttendanceSheet",
    "AuditEntry",
    "Base",
    "BillingProfile",
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
    "HalfDay",
    "IdentityLink",
    "IdentityProvider",
    "Incident",
    "JobRun",
    "KioskLink",
    "KioskScope",
    "Learner",
    "LearnerPublic",
    "LinkPurpose",
    "LoginSession",
    "Occupancy",
    "OpeningHours",
    "OutboxMessage",
    "OutboxStatus",
    "Presence",
    "Price",
    "PriceKind",
    "Project",
    "ProjectStatus",
    "Public",
    "Quota",
    "QuotaAppliesTo",
    "QuotaOver",
    "QuotaPeriod",
    "Quote",
    "QuoteCounter",
    "QuoteLine",
    "QuoteStatus",
    "Respondent",
    "Role",
    "SatisfactionSurvey",
    "SchedulerLease",
    "Sector",
    "TrainingAgreement",
    "TravelTime",
    "UTCDateTime",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
    "equipment_certification_type",
    "project_equipment",
    "utcnow",
]
