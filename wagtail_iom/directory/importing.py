"""Bulk import of municipalities and schools from CSV or XLSX.

Two steps, both plain functions: :func:`plan_directory_import` reads a file and says, row by
row, what would be created, updated or rejected and why, writing nothing;
:func:`apply_directory_import` plans the same bytes again against the database as it is now and
writes the good rows in one transaction, so a failure leaves nothing half-written.

Columns are recognised by their headers in English or Russian (see :data:`COLUMN_ALIASES`);
order does not matter and unknown columns are reported and ignored.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from wagtail.search.backends import get_search_backends

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.tabular import TableReadError, read_table
from wagtail_iom.core.text import name_key
from wagtail_iom.directory.models import Municipality, School, SchoolKind

COLUMN_ALIASES = {
    "municipality": (
        "municipality",
        "муниципалитет",
        "муниципальное образование",
        "муниципальный район",
        "муниципальный район (городской округ)",
        "мо",
    ),
    "oktmo": ("oktmo", "municipality oktmo", "октмо", "октмо муниципалитета"),
    "school": (
        "school",
        "school name",
        "образовательная организация",
        "наименование оо",
        "наименование образовательной организации",
        "полное наименование",
        "оо",
        "школа",
    ),
    "short_name": (
        "short name",
        "краткое наименование",
        "сокращенное наименование",
    ),
    "kind": ("kind", "school kind", "тип", "тип оо", "вид", "вид оо"),
    "inn": ("inn", "инн"),
    "address": ("address", "адрес", "юридический адрес"),
    "teacher_count": (
        "teachers",
        "teacher_count",
        "teacher count",
        "number of teachers",
        "число педагогов",
        "количество педагогов",
        "численность педагогов",
        "педагогов",
    ),
}

CSV_TEMPLATE_HEADERS = [
    "municipality",
    "oktmo",
    "school",
    "short_name",
    "kind",
    "inn",
    "address",
    "teacher_count",
]


class DirectoryImportError(ValueError):
    """The whole file cannot be imported; the message says why."""


@dataclass
class RejectedRow:
    line: int
    reason: str
    values: dict


@dataclass
class PlannedRow:
    line: int
    action: str  # one of the ACTION_* constants
    municipality: str
    school: str = ""
    changes: list[str] = field(default_factory=list)


ACTION_CREATE_MUNICIPALITY = "create_municipality"
ACTION_UPDATE_MUNICIPALITY = "update_municipality"
ACTION_CREATE_SCHOOL = "create_school"
ACTION_UPDATE_SCHOOL = "update_school"
ACTION_UNCHANGED = "unchanged"


@dataclass
class DirectoryImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    # What apply writes: objects to create or save, in dependency order.
    new_municipalities: list[Municipality] = field(default_factory=list)
    changed_municipalities: list[Municipality] = field(default_factory=list)
    new_schools: list[School] = field(default_factory=list)
    changed_schools: list[School] = field(default_factory=list)

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        return {
            "municipalities_created": len(self.new_municipalities),
            "municipalities_updated": len(self.changed_municipalities),
            "schools_created": len(self.new_schools),
            "schools_updated": len(self.changed_schools),
            "unchanged": self.count(ACTION_UNCHANGED),
            "rejected": len(self.rejected),
        }

    @property
    def has_changes(self):
        return bool(
            self.new_municipalities
            or self.changed_municipalities
            or self.new_schools
            or self.changed_schools
        )

    def as_report(self):
        """A JSON-serialisable summary to store with the import."""
        return {
            "counts": self.counts,
            "encoding": self.encoding,
            "unknown_columns": self.unknown_columns,
            "rejected": [
                {"line": r.line, "reason": r.reason, "values": r.values} for r in self.rejected
            ],
        }


def _normalise_header(header: str) -> str:
    text = " ".join(header.replace("ё", "е").replace("Ё", "Е").split()).casefold()
    return text.strip(" *:.")


_ALIAS_TO_COLUMN = {
    _normalise_header(alias): column
    for column, aliases in COLUMN_ALIASES.items()
    for alias in aliases
}


def _kind_lookup():
    lookup = {}
    for value, label in SchoolKind.choices:
        lookup[name_key(value)] = value
        for language in ("en", "ru"):
            with translation.override(language):
                lookup[name_key(str(label))] = value
    return lookup


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        parts = []
        for field_name, messages in error.message_dict.items():
            label = field_name
            for model in (School, Municipality):
                try:
                    label = str(model._meta.get_field(field_name).verbose_name)
                    break
                except Exception:  # noqa: S112 - not a field of this model, try the next
                    continue
            parts.append(f"{label}: {' '.join(messages)}")
        return "; ".join(parts)
    return " ".join(error.messages)


def plan_directory_import(content: bytes, file_name: str) -> DirectoryImportPlan:
    """Read the file and plan the import against the current database; write nothing."""
    try:
        table = read_table(content, file_name, max_rows=iom_settings.IMPORT_MAX_ROWS)
    except TableReadError as exc:
        raise DirectoryImportError(str(exc)) from exc

    columns = {}
    plan = DirectoryImportPlan(encoding=table.encoding)
    for index, header in enumerate(table.headers):
        column = _ALIAS_TO_COLUMN.get(_normalise_header(header))
        if column and column not in columns:
            columns[column] = index
        elif header:
            plan.unknown_columns.append(header)
    if "municipality" not in columns:
        raise DirectoryImportError(
            _(
                "The file has no municipality column. The first row must hold the column "
                "names, e.g. “municipality; school; kind; inn” or “Муниципалитет; "
                "Образовательная организация; Тип; ИНН”."
            )
        )

    municipalities_by_name = {}
    municipalities_by_oktmo = {}
    # .order_by(): the models' default ordering would add a join and a sort nobody reads.
    for municipality in Municipality.objects.order_by():
        municipalities_by_name[name_key(municipality.name)] = municipality
        if municipality.oktmo:
            municipalities_by_oktmo[municipality.oktmo] = municipality
    schools_by_name = {}
    schools_by_inn = {}
    for school in School.objects.order_by():
        schools_by_name[(school.municipality_id, name_key(school.name))] = school
        if school.inn:
            schools_by_inn[school.inn] = school

    kinds = _kind_lookup()
    seen_school_lines = {}
    seen_inn_lines = {}
    updated = set()  # ids of municipalities already planned for an update

    for line, cells in table.rows:
        values = {
            column: (cells[index] if index < len(cells) else "")
            for column, index in columns.items()
        }

        def reject(reason, line=line, values=values):
            plan.rejected.append(RejectedRow(line=line, reason=reason, values=values))

        municipality_name = " ".join(values.get("municipality", "").split())
        oktmo = values.get("oktmo", "").replace(" ", "")
        school_name = " ".join(values.get("school", "").split())
        inn = values.get("inn", "").replace(" ", "")
        if not municipality_name:
            reject(_("The municipality is empty."))
            continue

        kind_text = values.get("kind", "")
        kind = kinds.get(name_key(kind_text)) if kind_text else None
        if kind_text and kind is None:
            reject(
                _("Unknown kind of school “%(kind)s”. Use one of: %(choices)s.")
                % {
                    "kind": kind_text,
                    "choices": ", ".join(str(label) for _v, label in SchoolKind.choices),
                }
            )
            continue

        # The number of teachers: a whole number of 0 or more; empty leaves it as it is.
        count_text = "".join(values.get("teacher_count", "").split())
        teacher_count = None
        if count_text:
            if count_text.endswith(".0"):  # a number cell of a workbook read as text
                count_text = count_text[:-2]
            if not (count_text.isascii() and count_text.isdigit()) or len(count_text) > 9:
                reject(
                    _(
                        "The number of teachers “%(value)s” is not a whole number of 0 or more. "
                        "Write digits only, or leave the cell empty when unknown."
                    )
                    % {"value": values["teacher_count"]}
                )
                continue
            teacher_count = int(count_text)
            if not (school_name or inn):
                reject(_("The number of teachers is given without a school."))
                continue

        # The municipality: found by OKTMO, then by name; created when new.
        municipality = municipalities_by_oktmo.get(oktmo) if oktmo else None
        if municipality is None:
            municipality = municipalities_by_name.get(name_key(municipality_name))
            if (
                municipality is not None
                and oktmo
                and municipality.oktmo
                and municipality.oktmo != oktmo
            ):
                reject(
                    _("The OKTMO code %(oktmo)s differs from %(stored)s stored for “%(name)s”.")
                    % {"oktmo": oktmo, "stored": municipality.oktmo, "name": municipality.name}
                )
                continue
        municipality_changes = []
        if municipality is None:
            municipality_action = ACTION_CREATE_MUNICIPALITY
            candidate_municipality = Municipality(name=municipality_name, oktmo=oktmo)
        else:
            # A name that differs only in case or spaces is the same name, not a rename.
            if name_key(municipality.name) != name_key(municipality_name):
                municipality_changes.append(_("name"))
            if oktmo and municipality.oktmo != oktmo:
                municipality_changes.append(_("OKTMO code"))
            municipality_action = (
                ACTION_UPDATE_MUNICIPALITY if municipality_changes else ACTION_UNCHANGED
            )
            candidate_municipality = Municipality(
                pk=municipality.pk,
                name=municipality_name if municipality_changes else municipality.name,
                oktmo=oktmo or municipality.oktmo,
                kind=municipality.kind,
            )
        candidate_municipality.name_key = name_key(candidate_municipality.name)
        try:
            # Field rules only: uniqueness is what this plan works out itself, in memory.
            candidate_municipality.clean_fields()
        except ValidationError as exc:
            reject(_validation_message(exc))
            continue
        if municipality is None:
            municipality = candidate_municipality

        school = None
        school_action = None
        school_changes = []
        if school_name or inn:
            if not school_name:
                reject(_("The school's name is empty."))
                continue
            if inn and inn in seen_inn_lines:
                reject(_("This INN repeats line %(line)d.") % {"line": seen_inn_lines[inn]})
                continue
            school_key = (id(municipality), name_key(school_name))
            if school_key in seen_school_lines:
                reject(
                    _("This school repeats line %(line)d.")
                    % {"line": seen_school_lines[school_key]}
                )
                continue
            school = schools_by_inn.get(inn) if inn else None
            if school is None and municipality.pk:
                school = schools_by_name.get((municipality.pk, name_key(school_name)))
            if school is not None and inn and school.inn and school.inn != inn:
                reject(
                    _("The INN %(inn)s differs from %(stored)s stored for “%(name)s”.")
                    % {"inn": inn, "stored": school.inn, "name": school.name}
                )
                continue
            new_values = {
                "name": school_name,
                "short_name": " ".join(values.get("short_name", "").split()),
                "inn": inn,
                "address": " ".join(values.get("address", "").split()),
                "kind": kind or "",
            }
            if school is None:
                school = School(
                    municipality=municipality,
                    teacher_count=teacher_count,
                    **{k: v for k, v in new_values.items() if v},
                )
                school_action = ACTION_CREATE_SCHOOL
            else:
                candidate = School(
                    pk=school.pk,
                    municipality=school.municipality,
                    name=school.name,
                    short_name=school.short_name,
                    inn=school.inn,
                    address=school.address,
                    kind=school.kind,
                    teacher_count=school.teacher_count,
                )
                if candidate.municipality_id != municipality.pk:
                    school_changes.append(_("municipality"))
                for field_name, value in new_values.items():
                    if value and getattr(candidate, field_name) != value:
                        setattr(candidate, field_name, value)
                        school_changes.append(str(School._meta.get_field(field_name).verbose_name))
                if teacher_count is not None and candidate.teacher_count != teacher_count:
                    candidate.teacher_count = teacher_count
                    school_changes.append(str(School._meta.get_field("teacher_count").verbose_name))
                candidate.municipality = municipality
                school_action = ACTION_UPDATE_SCHOOL if school_changes else ACTION_UNCHANGED
                school = candidate
            school.name_key = name_key(school.name)
            try:
                school.clean_fields(exclude=["municipality"])
            except ValidationError as exc:
                reject(_validation_message(exc))
                continue
            seen_school_lines[school_key] = line
            if inn:
                seen_inn_lines[inn] = line

        # The row is good: record what it changes.
        if municipality_action == ACTION_CREATE_MUNICIPALITY:
            municipalities_by_name[name_key(municipality_name)] = municipality
            if oktmo:
                municipalities_by_oktmo[oktmo] = municipality
            plan.new_municipalities.append(municipality)
        elif municipality_action == ACTION_UPDATE_MUNICIPALITY and id(municipality) not in updated:
            municipality.name = candidate_municipality.name
            municipality.name_key = candidate_municipality.name_key
            municipality.oktmo = candidate_municipality.oktmo
            updated.add(id(municipality))
            plan.changed_municipalities.append(municipality)

        if school is None:
            plan.rows.append(
                PlannedRow(
                    line=line,
                    action=municipality_action,
                    municipality=municipality.name,
                    changes=[str(c) for c in municipality_changes],
                )
            )
            continue
        if school_action == ACTION_CREATE_SCHOOL:
            plan.new_schools.append(school)
        elif school_action == ACTION_UPDATE_SCHOOL:
            plan.changed_schools.append(school)
        plan.rows.append(
            PlannedRow(
                line=line,
                action=school_action,
                municipality=municipality.name,
                school=school.name,
                changes=[str(c) for c in school_changes],
            )
        )
    return plan


def _index(model, objects):
    """Add written objects to the search index (bulk writes send no save signals)."""
    if not objects:
        return
    for backend in get_search_backends(with_auto_update=True):
        backend.add_bulk(model, objects)


@transaction.atomic
def apply_directory_import(content: bytes, file_name: str) -> DirectoryImportPlan:
    """Plan the file again against the database as it is now and write the good rows.

    Everything is written in one transaction: if any write fails, nothing is saved and the
    exception propagates. Rejected rows are returned in the plan, never written.
    """
    plan = plan_directory_import(content, file_name)
    if plan.new_municipalities:
        Municipality.objects.bulk_create(plan.new_municipalities, batch_size=500)
    if plan.changed_municipalities:
        Municipality.objects.bulk_update(
            plan.changed_municipalities, ["name", "name_key", "oktmo"], batch_size=500
        )
    if plan.new_schools:
        School.objects.bulk_create(plan.new_schools, batch_size=500)
    if plan.changed_schools:
        School.objects.bulk_update(
            plan.changed_schools,
            [
                "municipality",
                "name",
                "name_key",
                "short_name",
                "inn",
                "address",
                "kind",
                "teacher_count",
            ],
            batch_size=500,
        )
    _index(Municipality, plan.new_municipalities + plan.changed_municipalities)
    _index(School, plan.new_schools + plan.changed_schools)
    return plan


def delete_stale_import_previews(now=None) -> int:
    """Delete uploaded files that were previewed but never applied, after the retention period.

    Applied and failed imports are kept: their reports are the record of what happened.
    """
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_iom.directory.models import DirectoryImport, DirectoryImportStatus

    cutoff = (now or timezone.now()) - timedelta(days=iom_settings.IMPORT_PREVIEW_RETENTION_DAYS)
    deleted, _by_model = DirectoryImport.objects.filter(
        status=DirectoryImportStatus.PREVIEWED, created_at__lt=cutoff
    ).delete()
    return deleted
