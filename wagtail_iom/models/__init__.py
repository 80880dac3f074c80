"""The package's models, one module per part of the domain."""

from .competencies import Competency, CompetencyGroup
from .directory import Municipality, MunicipalityKind, School, SchoolKind
from .imports import DirectoryImport, DirectoryImportStatus

__all__ = [
    "Competency",
    "CompetencyGroup",
    "DirectoryImport",
    "DirectoryImportStatus",
    "Municipality",
    "MunicipalityKind",
    "School",
    "SchoolKind",
]
