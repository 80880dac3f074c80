"""The package's models, one module per part of the domain."""

from .competencies import Competency, CompetencyGroup
from .directory import Municipality, MunicipalityKind, School, SchoolKind
from .events import (
    EventDocument,
    EventFormat,
    EventLevel,
    EventPage,
    EventPageMixin,
    EventSession,
    EventSessionCalendarState,
    EventStatus,
    ResourceMapPage,
    ResourceMapPageMixin,
)
from .imports import DirectoryImport, DirectoryImportStatus
from .people import PendingTeacherName, PersonalDataConsent, TeacherProfile
from .registrations import SEAT_HOLDING_STATUSES, Registration, RegistrationStatus

__all__ = [
    "EventDocument",
    "EventFormat",
    "EventLevel",
    "EventPage",
    "EventPageMixin",
    "EventSession",
    "EventSessionCalendarState",
    "EventStatus",
    "ResourceMapPage",
    "ResourceMapPageMixin",
    "Registration",
    "RegistrationStatus",
    "SEAT_HOLDING_STATUSES",
    "Competency",
    "CompetencyGroup",
    "DirectoryImport",
    "DirectoryImportStatus",
    "Municipality",
    "MunicipalityKind",
    "School",
    "SchoolKind",
    "PendingTeacherName",
    "PersonalDataConsent",
    "TeacherProfile",
]
