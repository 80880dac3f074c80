"""The package's models, re-exported from the domains that own them.

``from wagtail_iom.models import EventPage`` is the public import path; Django loads the app's
models from here. Each model lives with the rest of its domain (``wagtail_iom/<domain>/models.py``).
"""

from wagtail_iom.accounts.models import PendingConfirmation, RateLimitCount
from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.core.access import StaffRole
from wagtail_iom.core.models import SentNotification
from wagtail_iom.curators.models import (
    CuratorAssignment,
    StaffMembership,
    TeacherProposal,
    TeacherProposalStatus,
)
from wagtail_iom.diagnostics.models import (
    CompetencyScore,
    DiagnosticLevel,
    DiagnosticProcedure,
    DiagnosticResult,
)
from wagtail_iom.directory.models import (
    Competency,
    CompetencyGroup,
    DirectoryImport,
    DirectoryImportStatus,
    Municipality,
    MunicipalityKind,
    School,
    SchoolKind,
)
from wagtail_iom.events.models import (
    SEAT_HOLDING_STATUSES,
    EventDocument,
    EventFormat,
    EventLevel,
    EventPage,
    EventPageMixin,
    EventSession,
    EventSessionCalendarState,
    EventStatus,
    Registration,
    RegistrationStatus,
    ResourceMapPage,
    ResourceMapPageMixin,
)
from wagtail_iom.people.models import (
    Achievement,
    AchievementDirection,
    CommunityMembership,
    CommunityStatus,
    EducationLevel,
    FurtherEducation,
    FurtherEducationKind,
    MentoringRole,
    PendingTeacherName,
    PersonalDataConsent,
    ProfessionalRequest,
    QualificationCategory,
    RegionalProject,
    TeacherProfile,
)
from wagtail_iom.routes.models import (
    Route,
    RouteComment,
    RouteLayout,
    RouteStatus,
    RouteTransition,
    StepCompletion,
)

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
    "PendingConfirmation",
    "RateLimitCount",
    "Achievement",
    "AchievementDirection",
    "CommunityMembership",
    "CommunityStatus",
    "EducationLevel",
    "FurtherEducation",
    "FurtherEducationKind",
    "MentoringRole",
    "ProfessionalRequest",
    "QualificationCategory",
    "RegionalProject",
    "AttendanceMark",
    "SentNotification",
    "CompetencyScore",
    "DiagnosticLevel",
    "DiagnosticProcedure",
    "DiagnosticResult",
    "CuratorAssignment",
    "StaffMembership",
    "StaffRole",
    "TeacherProposal",
    "TeacherProposalStatus",
    "Route",
    "RouteComment",
    "RouteLayout",
    "RouteStatus",
    "RouteTransition",
    "StepCompletion",
]
