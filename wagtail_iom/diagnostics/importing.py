"""Import of diagnostics results from CSV or XLSX: upload, a preview that writes nothing, then
an apply in chunks, each a background task and a transaction of its own.

One row per teacher and procedure: the teacher (by e-mail or SNILS), optionally the school, the
procedure, its date, the total score and level, and a score per competency (a column named by
the competency's code, or a ``scores`` cell such as ``M-1: 55; P-2: 70``). Columns are
recognised by their headers in English or Russian (:data:`COLUMN_ALIASES`).

* :func:`read_rows` reads the file and checks every row on its own (no teacher lookups): a
  row that cannot be used is rejected with its line and the reason.
* :func:`plan_rows` finds the teachers, schools and existing results of some rows with a fixed
  number of queries, and says per row: create, update, unchanged, not registered, rejected.
* :func:`create_preview` plans the whole file and keeps its rows in chunks of
  ``DIAGNOSTICS_IMPORT_CHUNK_SIZE``; :func:`start_apply` creates the invited accounts and
  starts the chunks' tasks, which run :func:`apply_chunk` once the transaction commits.

Results are keyed by teacher, procedure and date: a file applied twice creates nothing new.
The rows of a person who has an account but no teacher's profile yet (invited by the import, or
signed up without the consent so far) are kept as :class:`PendingDiagnosticResult` rows, keyed
by the account, procedure and date, and become results when the profile is created
(:func:`write_pending_results`).
A SNILS is checked with its control number and stored only as a keyed hash
(:func:`wagtail_iom.core.validators.snils_digest`).
"""

import datetime
import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wagtail_iom.accounts import emails as account_emails
from wagtail_iom.accounts.models import Invitation
from wagtail_iom.accounts.services import invite_teachers, normalize_email
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import bulk, mail
from wagtail_iom.core.tabular import TableReadError, read_table
from wagtail_iom.core.text import name_key
from wagtail_iom.core.validators import is_valid_snils, snils_digest
from wagtail_iom.diagnostics.models import (
    CompetencyScore,
    DiagnosticImport,
    DiagnosticImportChunk,
    DiagnosticImportChunkStatus,
    DiagnosticImportStatus,
    DiagnosticLevel,
    DiagnosticProcedure,
    DiagnosticResult,
    PendingDiagnosticResult,
    TeacherPersonalId,
)
from wagtail_iom.directory.models import Competency, School
from wagtail_iom.people.models import TeacherProfile

logger = logging.getLogger(__name__)

COLUMN_ALIASES = {
    "email": (
        "email",
        "e-mail",
        "e-mail address",
        "электронная почта",
        "адрес электронной почты",
        "эл. почта",
        "почта",
    ),
    "snils": ("snils", "personal id", "снилс"),
    "last_name": ("last name", "surname", "фамилия"),
    "first_name": ("first name", "имя"),
    "patronymic": ("patronymic", "middle name", "отчество"),
    "school": (
        "school",
        "school name",
        "образовательная организация",
        "наименование оо",
        "оо",
        "школа",
    ),
    "school_inn": ("school inn", "inn", "инн", "инн оо"),
    "procedure": ("procedure", "процедура", "вид диагностики", "форма диагностики"),
    "procedure_name": (
        "procedure name",
        "name of the procedure",
        "название процедуры",
        "наименование процедуры",
        "название диагностики",
    ),
    "date": ("date", "дата", "дата диагностики", "дата проведения"),
    "total_score": (
        "total score",
        "total score, %",
        "score",
        "общий балл",
        "итоговый балл",
        "балл",
        "результат, %",
    ),
    "level": ("level", "уровень"),
    "scores": ("scores", "competency scores", "баллы по компетенциям"),
}

CSV_TEMPLATE_HEADERS = [
    "email",
    "snils",
    "last_name",
    "first_name",
    "patronymic",
    "school",
    "procedure",
    "procedure_name",
    "date",
    "total_score",
    "level",
    "scores",
]

DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S")

ACTION_CREATE = "create"
ACTION_UPDATE = "update"
ACTION_UNCHANGED = "unchanged"
ACTION_NOT_REGISTERED = "not_registered"
ACTION_REJECTED = "rejected"

COUNT_KEYS = (ACTION_CREATE, ACTION_UPDATE, ACTION_UNCHANGED, ACTION_NOT_REGISTERED, "rejected")

# The route drafts after an import are built by tasks of this many results each.
DRAFT_BATCH_SIZE = 250

# How many planned rows a preview keeps to show (the counts cover them all).
PREVIEW_ROWS_SHOWN = 500

#: Chunks written by one INSERT at the upload: a few at a time, each built just before it.
CHUNKS_PER_INSERT = 10


class DiagnosticImportError(ValueError):
    """The whole file cannot be imported; the message says why, in the user's language."""


@dataclass
class ParsedRow:
    """A row that passed the checks that need no teacher: what it says, parsed."""

    line: int
    values: dict
    email: str = ""
    snils: str = ""  # the keyed hash, never the number
    names: dict = field(default_factory=dict)
    school: str = ""
    school_inn: str = ""
    procedure: str = ""
    procedure_name: str = ""
    date: datetime.date | None = None
    total_score: Decimal | None = None
    level: str = ""
    scores: dict = field(default_factory=dict)  # {competency id: Decimal}


@dataclass
class RejectedRow:
    line: int
    reason: str
    values: dict


@dataclass
class ParsedFile:
    rows: list  # ParsedRow and RejectedRow, in the file's order
    encoding: str = ""
    unknown_columns: list = field(default_factory=list)
    score_columns: list = field(default_factory=list)


@dataclass
class PlannedRow:
    line: int
    action: str
    teacher: str = ""
    email: str = ""
    procedure: str = ""
    date: str = ""


@dataclass
class Plan:
    rows: list = field(default_factory=list)  # PlannedRow
    rejected: list = field(default_factory=list)  # RejectedRow
    not_registered: list = field(default_factory=list)  # dicts: line, email, names, invited
    # What a write does.
    new_results: list = field(default_factory=list)  # (DiagnosticResult, {competency id: score})
    changed_results: list = field(default_factory=list)  # (DiagnosticResult, scores, existing)
    new_personal_ids: list = field(default_factory=list)
    schools_to_set: list = field(default_factory=list)  # TeacherProfile
    # Rows of accounts without a profile (no consent yet), kept until the consent.
    new_pending: list = field(default_factory=list)  # PendingDiagnosticResult
    changed_pending: list = field(default_factory=list)  # PendingDiagnosticResult

    @property
    def counts(self):
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for row in self.rows:
            counts[row.action] += 1
        counts["rejected"] = len(self.rejected)
        return counts

    def as_report(self):
        return {
            "counts": self.counts,
            "rows": [row.__dict__ for row in self.rows[:PREVIEW_ROWS_SHOWN]],
            "rejected": [row.__dict__ for row in self.rejected],
            "not_registered": self.not_registered,
        }


# Reading -----------------------------------------------------------------------------------


def _normalise_header(header: str) -> str:
    text = " ".join(header.replace("ё", "е").replace("Ё", "Е").split()).casefold()
    return text.strip(" *:.")


_ALIAS_TO_COLUMN = {
    _normalise_header(alias): column
    for column, aliases in COLUMN_ALIASES.items()
    for alias in aliases
}


def _choice_lookup(choices):
    lookup = {}
    for value, label in choices:
        lookup[name_key(value)] = value
        for language in ("en", "ru"):
            with translation.override(language):
                lookup[name_key(str(label))] = value
    return lookup


def _parse_date(text):
    text = text.strip()
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _parse_score(text):
    """A percentage as typed ("62,5", "62.5 %"): a Decimal with one decimal, or None."""
    text = text.replace("\u00a0", "").replace(" ", "").rstrip("%").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _score_cell_pairs(text):
    """``M-1: 55; P-2=70`` → [("M-1", "55"), ("P-2", "70")]; a part without a separator
    gives (part, None)."""
    pairs = []
    for part in text.replace("\n", ";").replace("|", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        for separator in (":", "="):
            if separator in part:
                code, value = part.split(separator, 1)
                pairs.append((code.strip(), value.strip()))
                break
        else:
            pairs.append((part, None))
    return pairs


SNILS_HASHED = "hmac:"
SNILS_INVALID = "invalid"


def _map_headers(headers):
    columns = {}
    for index, header in enumerate(headers):
        column = _ALIAS_TO_COLUMN.get(_normalise_header(header))
        if column and column not in columns:
            columns[column] = index
    return columns


def read_file(content: bytes, file_name: str) -> dict:
    """Read an uploaded file into the rows that are kept with the import (JSON).

    The file itself is not kept: it holds personal ids. Each SNILS cell is replaced here by
    its keyed hash (or by a mark that it is not valid), so the number never reaches the
    database, and every later step reads these rows.
    """
    try:
        table = read_table(
            content, file_name, max_rows=iom_settings.DIAGNOSTICS_IMPORT_MAX_ROWS, per_line=True
        )
    except TableReadError as exc:
        raise DiagnosticImportError(str(exc)) from exc
    snils_index = _map_headers(table.headers).get("snils")
    rows = []
    for line, cells in table.rows:
        if snils_index is not None and snils_index < len(cells) and cells[snils_index]:
            cells = list(cells)
            if is_valid_snils(cells[snils_index]):
                digest = snils_digest(cells[snils_index], key=iom_settings.PERSONAL_ID_HASH_KEY)
                cells[snils_index] = SNILS_HASHED + digest
            else:
                cells[snils_index] = SNILS_INVALID
        rows.append([line, cells])
    return {
        "headers": table.headers,
        "rows": rows,
        "bad_lines": {str(line): reason for line, reason in table.bad_lines.items()},
        "encoding": table.encoding,
    }


def read_rows(table: dict) -> ParsedFile:
    """Check each row of a file read by :func:`read_file` on its own; one query (the
    competency codes)."""
    competencies = {name_key(code): pk for pk, code in Competency.objects.values_list("pk", "code")}
    columns, score_columns, unknown = {}, {}, []
    for index, header in enumerate(table["headers"]):
        column = _ALIAS_TO_COLUMN.get(_normalise_header(header))
        if column and column not in columns:
            columns[column] = index
        elif header and name_key(header) in competencies:
            score_columns[index] = (header, competencies[name_key(header)])
        elif header:
            unknown.append(header)
    if "email" not in columns and "snils" not in columns:
        raise DiagnosticImportError(
            _(
                "The file has no column for the teacher: it needs “email” or “snils” "
                "(“Электронная почта” or “СНИЛС”) in its first row."
            )
        )
    missing = [
        label
        for column, label in (
            ("date", "date / Дата"),
            ("procedure", "procedure / Процедура"),
            ("total_score", "total score / Общий балл"),
            ("level", "level / Уровень"),
        )
        if column not in columns
    ]
    if missing:
        raise DiagnosticImportError(
            _("The file has no column for: %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )

    procedures = _choice_lookup(DiagnosticProcedure.choices)
    levels = _choice_lookup(DiagnosticLevel.choices)
    today = timezone.localdate()
    parsed = ParsedFile(
        rows=[],
        encoding=table["encoding"],
        unknown_columns=unknown,
        score_columns=[header for header, _pk in score_columns.values()],
    )
    seen = {}
    rows = [(line, cells, None) for line, cells in table["rows"]]
    rows += [(int(line), [], reason) for line, reason in table["bad_lines"].items()]
    rows.sort(key=lambda item: item[0])

    for line, cells, bad_line in rows:
        values = {
            column: (cells[index] if index < len(cells) else "")
            for column, index in columns.items()
        }
        for index, (header, _pk) in score_columns.items():
            values[header] = cells[index] if index < len(cells) else ""
        # The number itself never reaches the report: it is personal data.
        if values.get("snils"):
            values["snils"] = "***"

        def reject(reason, line=line, values=values):
            parsed.rows.append(RejectedRow(line=line, reason=reason, values=values))

        if bad_line:
            reject(bad_line)
            continue
        row = ParsedRow(line=line, values=values)
        email = (
            cells[columns["email"]] if "email" in columns and columns["email"] < len(cells) else ""
        )
        snils = (
            cells[columns["snils"]] if "snils" in columns and columns["snils"] < len(cells) else ""
        )
        if not email and not snils:
            reject(_("The teacher is missing: give the e-mail or the SNILS."))
            continue
        if email:
            row.email = normalize_email(email)
            if "@" not in row.email or " " in row.email or len(row.email) > 150:
                reject(_("“%(email)s” is not an e-mail address.") % {"email": email})
                continue
        if snils:
            if not snils.startswith(SNILS_HASHED):
                reject(
                    _(
                        "The SNILS is not valid: it needs 11 digits whose last two are the "
                        "control number of the first nine. Check it for a typo."
                    )
                )
                continue
            row.snils = snils.removeprefix(SNILS_HASHED)
        row.names = {
            key: " ".join(values.get(key, "").split())[:150]
            for key in ("last_name", "first_name", "patronymic")
        }
        row.school = " ".join(values.get("school", "").split())
        row.school_inn = values.get("school_inn", "").replace(" ", "")

        procedure_text = values.get("procedure", "")
        row.procedure = procedures.get(name_key(procedure_text), "")
        if not row.procedure:
            reject(
                _("Unknown procedure “%(value)s”. Use one of: %(choices)s.")
                % {
                    "value": procedure_text,
                    "choices": ", ".join(str(label) for _v, label in DiagnosticProcedure.choices),
                }
            )
            continue
        row.procedure_name = " ".join(values.get("procedure_name", "").split())
        if len(row.procedure_name) > 500:
            reject(_("The name of the procedure is longer than 500 characters."))
            continue

        date_text = values.get("date", "")
        row.date = _parse_date(date_text) if date_text else None
        if row.date is None:
            reject(
                _("“%(value)s” is not a date: write it as 25.11.2026.") % {"value": date_text}
                if date_text
                else _("The date is missing.")
            )
            continue
        if row.date > today:
            reject(
                _("The date %(date)s is in the future.") % {"date": row.date.strftime("%d.%m.%Y")}
            )
            continue

        score_text = values.get("total_score", "")
        row.total_score = _parse_score(score_text) if score_text else None
        level_text = values.get("level", "")
        row.level = levels.get(name_key(level_text), "") if level_text else ""
        if not score_text:
            reject(_("The total score is missing."))
            continue
        if row.total_score is None:
            reject(_("The total score “%(value)s” is not a number.") % {"value": score_text})
            continue
        if not Decimal(0) <= row.total_score <= Decimal(100):
            reject(
                _("The total score %(value)s is out of range: scores are 0–100 %%.")
                % {"value": score_text}
            )
            continue
        if not level_text:
            reject(_("The level is missing."))
            continue
        if not row.level:
            reject(
                _("Unknown level “%(value)s”. Use one of: %(choices)s.")
                % {
                    "value": level_text,
                    "choices": ", ".join(str(label) for _v, label in DiagnosticLevel.choices),
                }
            )
            continue

        pairs = [
            (header, cells[index] if index < len(cells) else "")
            for index, (header, _pk) in score_columns.items()
        ]
        pairs += _score_cell_pairs(values.get("scores", ""))
        problems = []
        unknown_codes = []
        for code, text in pairs:
            if text is not None and not text:
                continue  # an empty cell: this competency was not scored
            competency_id = competencies.get(name_key(code))
            if competency_id is None:
                unknown_codes.append(code)
                continue
            score = _parse_score(text) if text else None
            if score is None:
                problems.append(
                    _("the score of %(code)s “%(value)s” is not a number")
                    % {"code": code, "value": text or ""}
                )
            elif not Decimal(0) <= score <= Decimal(100):
                problems.append(
                    _("the score of %(code)s, %(value)s, is out of range 0–100")
                    % {"code": code, "value": text}
                )
            elif competency_id in row.scores and row.scores[competency_id] != score:
                problems.append(_("%(code)s is scored twice") % {"code": code})
            else:
                row.scores[competency_id] = score
        if unknown_codes:
            reject(
                _(
                    "Unknown competency codes: %(codes)s. Use the codes of Directories → "
                    "Competencies."
                )
                % {"codes": ", ".join(unknown_codes)}
            )
            continue
        if problems:
            reject(_("Scores per competency: %(problems)s.") % {"problems": "; ".join(problems)})
            continue

        key = (row.email or row.snils, row.procedure, row.date)
        if key in seen:
            reject(
                _("This row repeats line %(line)d: the same teacher, procedure and date.")
                % {"line": seen[key]}
            )
            continue
        seen[key] = line
        parsed.rows.append(row)
    return parsed


def row_to_data(row) -> dict:
    """A row of :func:`read_rows` as JSON, to keep with its chunk until the chunk is written."""
    if isinstance(row, RejectedRow):
        return {"rejected": True, "line": row.line, "reason": row.reason, "values": row.values}
    return {
        **row.__dict__,
        "date": row.date.isoformat() if row.date else None,
        "total_score": None if row.total_score is None else str(row.total_score),
        "scores": {str(pk): str(score) for pk, score in row.scores.items()},
    }


def row_from_data(data: dict):
    """The row :func:`row_to_data` kept."""
    if data.get("rejected"):
        return RejectedRow(line=data["line"], reason=data["reason"], values=data["values"])
    return ParsedRow(
        **{
            **data,
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else None,
            "total_score": None if data["total_score"] is None else Decimal(data["total_score"]),
            "scores": {int(pk): Decimal(score) for pk, score in data["scores"].items()},
        }
    )


# Planning ----------------------------------------------------------------------------------


def plan_rows(rows) -> Plan:
    """Plan ``rows`` (ParsedRow and RejectedRow) against the database as it is now.

    A fixed number of queries, whatever the number of rows: users, personal ids, profiles,
    schools, existing results and their scores.
    """
    plan = Plan()
    parsed = []
    for row in rows:
        if isinstance(row, RejectedRow):
            plan.rejected.append(row)
        else:
            parsed.append(row)
    if not parsed:
        return plan

    User = get_user_model()
    emails = {row.email for row in parsed if row.email}
    digests = {row.snils for row in parsed if row.snils}
    users_by_email = {}
    # Addresses are compared in lower case: accounts made in the admin may keep capitals.
    for pk, username, email in (
        User.objects.annotate(username_lower=Lower("username"), email_lower=Lower("email"))
        .filter(Q(username_lower__in=emails) | Q(email_lower__in=emails))
        .values_list("pk", "username", "email")
    ):
        for value in (username, email):
            if value and value.lower() in emails:
                users_by_email.setdefault(value.lower(), pk)
    ids = TeacherPersonalId.objects.filter(
        Q(snils_digest__in=digests) | Q(user_id__in=set(users_by_email.values()))
    ).values_list("user_id", "snils_digest")
    user_by_digest, digest_by_user = {}, {}
    for user_id, digest in ids:
        user_by_digest[digest] = user_id
        digest_by_user[user_id] = digest
    user_ids = set(users_by_email.values()) | set(user_by_digest.values())
    profiles = {
        profile.user_id: profile
        for profile in TeacherProfile.objects.filter(user_id__in=user_ids).only(
            "pk", "user_id", "last_name", "first_name", "patronymic", "school", "municipality"
        )
    }
    school_names = {name_key(row.school) for row in parsed if row.school}
    school_inns = {row.school_inn for row in parsed if row.school_inn}
    schools_by_inn, schools_by_name = {}, {}
    if school_names or school_inns:
        for pk, inn, key, municipality_id in School.objects.filter(
            Q(inn__in=school_inns) | Q(name_key__in=school_names)
        ).values_list("pk", "inn", "name_key", "municipality_id"):
            if inn:
                schools_by_inn[inn] = (pk, municipality_id)
            schools_by_name.setdefault(key, []).append((pk, municipality_id))
    teacher_ids = [profile.pk for profile in profiles.values()]
    existing = {}
    for result in DiagnosticResult.objects.filter(
        teacher_id__in=teacher_ids, date__in={row.date for row in parsed}
    ).order_by():
        existing[(result.teacher_id, result.procedure, result.date)] = result
    existing_scores = {}
    for score in CompetencyScore.objects.filter(result__in=list(existing.values())).order_by():
        existing_scores.setdefault(score.result_id, {})[score.competency_id] = score
    # Accounts without a profile: their rows wait for the consent (two queries, only when the
    # rows name such accounts).
    waiting = user_ids - profiles.keys()
    existing_pending, codes = {}, {}
    if waiting:
        for pending in PendingDiagnosticResult.objects.filter(
            user_id__in=waiting, date__in={row.date for row in parsed}
        ).order_by():
            existing_pending[(pending.user_id, pending.procedure, pending.date)] = pending
        scored = {pk for row in parsed for pk in row.scores}
        if scored:
            codes = dict(Competency.objects.filter(pk__in=scored).values_list("pk", "code"))

    seen_teacher = {}
    digests_added = {}
    invited = set()
    for row in parsed:

        def reject(reason, row=row):
            plan.rejected.append(RejectedRow(line=row.line, reason=reason, values=row.values))

        by_email = users_by_email.get(row.email) if row.email else None
        by_digest = user_by_digest.get(row.snils) if row.snils else None
        if by_email and by_digest and by_email != by_digest:
            reject(_("The e-mail and the SNILS belong to two different accounts."))
            continue
        user_id = by_email or by_digest
        if user_id and row.snils:
            stored = digest_by_user.get(user_id) or digests_added.get(user_id)
            if stored and stored != row.snils:
                reject(_("Another SNILS is stored for this teacher: check the SNILS."))
                continue
        if user_id is None and not row.email:
            reject(
                _(
                    "No registered teacher has this SNILS. Add the teacher's e-mail, so "
                    "that the import can invite them."
                )
            )
            continue
        profile = profiles.get(user_id)

        school = None
        if row.school_inn:
            school = schools_by_inn.get(row.school_inn)
            if school is None:
                reject(
                    _("No school has the INN %(inn)s. Import the school first or correct it.")
                    % {"inn": row.school_inn}
                )
                continue
        elif row.school:
            found = schools_by_name.get(name_key(row.school), [])
            if not found:
                reject(
                    _(
                        "Unknown school “%(name)s”. Import it under Directories first, or "
                        "write its name as stored there."
                    )
                    % {"name": row.school}
                )
                continue
            if len(found) > 1:
                reject(
                    _("Several schools are named “%(name)s”: add the school's INN.")
                    % {"name": row.school}
                )
                continue
            school = found[0]

        if user_id is None:
            # Invited on apply; the apply then keeps the row until the consent (below).
            if row.email not in invited:
                invited.add(row.email)
                plan.not_registered.append(
                    {"line": row.line, "email": row.email, "invited": False, **row.names}
                )
            plan.rows.append(
                PlannedRow(row.line, ACTION_NOT_REGISTERED, email=row.email, date=str(row.date))
            )
            continue
        key = (user_id, row.procedure, row.date)
        if key in seen_teacher:
            reject(
                _("This row repeats line %(line)d: the same teacher, procedure and date.")
                % {"line": seen_teacher[key]}
            )
            continue
        seen_teacher[key] = row.line
        if row.snils and user_id not in digest_by_user and user_id not in digests_added:
            digests_added[user_id] = row.snils
            plan.new_personal_ids.append(TeacherPersonalId(user_id=user_id, snils_digest=row.snils))
        if profile is None:
            # An account (invited, or signed up) without the consent yet: no profile may hold
            # results before the teacher has consented, so the row waits for the consent.
            _plan_pending(plan, row, user_id, school, existing_pending.get(key), codes)
            plan.not_registered.append(
                {"line": row.line, "email": row.email, "invited": True, **row.names}
            )
            plan.rows.append(
                PlannedRow(row.line, ACTION_NOT_REGISTERED, email=row.email, date=str(row.date))
            )
            continue
        if school is not None and profile.school_id is None:
            profile.school_id, municipality_id = school
            profile.municipality_id = profile.municipality_id or municipality_id
            plan.schools_to_set.append(profile)

        result = existing.get((profile.pk, row.procedure, row.date))
        if result is None:
            action = ACTION_CREATE
            result = DiagnosticResult(
                teacher_id=profile.pk,
                procedure=row.procedure,
                date=row.date,
                procedure_name=row.procedure_name,
                total_score=row.total_score,
                level=row.level,
            )
            plan.new_results.append((result, row.scores))
        else:
            scores = existing_scores.get(result.pk, {})
            same = (
                result.total_score == row.total_score
                and result.level == row.level
                and (not row.procedure_name or result.procedure_name == row.procedure_name)
                and all(
                    competency_id in scores and scores[competency_id].score == value
                    for competency_id, value in row.scores.items()
                )
            )
            if same:
                action = ACTION_UNCHANGED
            else:
                action = ACTION_UPDATE
                result.total_score = row.total_score
                result.level = row.level
                result.procedure_name = row.procedure_name or result.procedure_name
                plan.changed_results.append((result, row.scores, scores))
        plan.rows.append(
            PlannedRow(
                row.line,
                action,
                teacher=str(profile),
                email=row.email,
                procedure=row.procedure,
                date=str(row.date),
            )
        )
    return plan


def _plan_pending(plan, row, user_id, school, pending, codes):
    """Keep ``row`` for an account without a profile: a new pending row, or the stored one
    updated (the scores it gives replace those stored; the others are kept)."""
    scores = {codes[pk]: str(value) for pk, value in row.scores.items() if pk in codes}
    if pending is None:
        plan.new_pending.append(
            PendingDiagnosticResult(
                user_id=user_id,
                procedure=row.procedure,
                date=row.date,
                procedure_name=row.procedure_name,
                total_score=row.total_score,
                level=row.level,
                scores=scores,
                school_id=school[0] if school else None,
            )
        )
        return
    pending.total_score = row.total_score
    pending.level = row.level
    pending.procedure_name = row.procedure_name or pending.procedure_name
    pending.scores = {**pending.scores, **scores}
    if school:
        pending.school_id = school[0]
    plan.changed_pending.append(pending)


def write_plan(plan: Plan, entered_by_id=None) -> None:
    """Write what ``plan`` says; a fixed number of queries whatever its size. Call it in a
    transaction: a failure must leave nothing of it written."""
    new = [result for result, _scores in plan.new_results]
    if entered_by_id is not None:
        for result in new + plan.new_pending:
            result.entered_by_id = entered_by_id
    if new:
        DiagnosticResult.objects.bulk_create(new)
    changed = [result for result, _scores, _existing in plan.changed_results]
    if changed:
        DiagnosticResult.objects.bulk_update(changed, ["total_score", "level", "procedure_name"])
    scores_to_create, scores_to_update = [], []
    for result, scores in plan.new_results:
        scores_to_create += [
            CompetencyScore(result_id=result.pk, competency_id=competency_id, score=value)
            for competency_id, value in scores.items()
        ]
    for result, scores, existing in plan.changed_results:
        for competency_id, value in scores.items():
            stored = existing.get(competency_id)
            if stored is None:
                scores_to_create.append(
                    CompetencyScore(result_id=result.pk, competency_id=competency_id, score=value)
                )
            elif stored.score != value:
                stored.score = value
                scores_to_update.append(stored)
    if scores_to_create:
        CompetencyScore.objects.bulk_create(scores_to_create)
    if scores_to_update:
        CompetencyScore.objects.bulk_update(scores_to_update, ["score"])
    if plan.new_personal_ids:
        TeacherPersonalId.objects.bulk_create(plan.new_personal_ids, ignore_conflicts=True)
    if plan.schools_to_set:
        TeacherProfile.objects.bulk_update(plan.schools_to_set, ["school", "municipality"])
    if plan.new_pending:
        PendingDiagnosticResult.objects.bulk_create(plan.new_pending)
    if plan.changed_pending:
        PendingDiagnosticResult.objects.bulk_update(
            plan.changed_pending,
            ["total_score", "level", "procedure_name", "scores", "school", "updated_at"],
        )


# Results waiting for the consent ------------------------------------------------------------


def write_pending_results(profile: TeacherProfile) -> int:
    """Write the results an import kept for ``profile``'s account while it had no profile,
    and delete them; returns how many. Call it in the transaction that creates the profile
    (the consent): a fixed number of queries, whatever the number of rows.

    A result the profile already has for the same procedure and date is updated, as an import
    would; the profile takes the school of the latest row that names one, when it has none.
    """
    pending = list(
        PendingDiagnosticResult.objects.filter(user_id=profile.user_id)
        .select_related("school")
        .order_by("date", "pk")
    )
    if not pending:
        return 0
    competencies = dict(
        Competency.objects.filter(
            code__in={code for row in pending for code in row.scores}
        ).values_list("code", "pk")
    )
    existing = {
        (result.procedure, result.date): result
        for result in DiagnosticResult.objects.filter(
            teacher=profile, date__in={row.date for row in pending}
        ).order_by()
    }
    existing_scores = {}
    if existing:
        for score in CompetencyScore.objects.filter(result__in=list(existing.values())).order_by():
            existing_scores.setdefault(score.result_id, {})[score.competency_id] = score
    plan = Plan()
    for row in pending:
        # A competency deleted since the import is left out, as an unknown code would be.
        scores = {
            competencies[code]: Decimal(value)
            for code, value in row.scores.items()
            if code in competencies
        }
        result = existing.get((row.procedure, row.date))
        if result is None:
            result = DiagnosticResult(
                teacher_id=profile.pk,
                procedure=row.procedure,
                date=row.date,
                procedure_name=row.procedure_name,
                total_score=row.total_score,
                level=row.level,
                entered_by_id=row.entered_by_id,
            )
            plan.new_results.append((result, scores))
        else:
            result.total_score = row.total_score
            result.level = row.level
            result.procedure_name = row.procedure_name or result.procedure_name
            plan.changed_results.append((result, scores, existing_scores.get(result.pk, {})))
    schools = [row.school for row in pending if row.school is not None]
    if schools and profile.school_id is None:
        # The rows are in date order: the latest school named wins.
        profile.school = schools[-1]
        profile.municipality_id = profile.municipality_id or schools[-1].municipality_id
        plan.schools_to_set.append(profile)
    write_plan(plan)
    PendingDiagnosticResult.objects.filter(pk__in=[row.pk for row in pending]).delete()
    return len(pending)


def delete_expired_pending_results(now=None) -> int:
    """Delete the kept results of invited accounts whose invitation was e-mailed more than
    ``INVITATION_DAYS`` ago and never accepted: its link no longer works, so the teacher can
    no longer give the consent through it (run daily, with the import previews' clean-up)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=iom_settings.INVITATION_DAYS)
    deleted, _by_model = PendingDiagnosticResult.objects.filter(
        user__is_active=False,
        user__iom_invitation__accepted_at__isnull=True,
        user__iom_invitation__sent_at__lt=cutoff,
    ).delete()
    return deleted


# The flow: preview, apply in chunks, invitations -------------------------------------------


def preview(content: bytes, file_name: str) -> dict:
    """The preview's report: what the whole file would do; writes nothing."""
    return preview_table(read_file(content, file_name))


def plan_in_chunks(rows) -> Plan:
    """Plan all ``rows`` chunk by chunk, as the apply will: the same answers, and queries that
    stay within the database's limits on parameters whatever the file's length."""
    size = iom_settings.DIAGNOSTICS_IMPORT_CHUNK_SIZE
    merged = Plan()
    invited = set()
    for start in range(0, len(rows), size):
        plan = plan_rows(rows[start : start + size])
        merged.rows += plan.rows
        merged.rejected += plan.rejected
        for person in plan.not_registered:
            if person["email"] not in invited:
                invited.add(person["email"])
                merged.not_registered.append(person)
    merged.rejected.sort(key=lambda row: row.line)
    return merged


def preview_table(table: dict) -> dict:
    parsed = read_rows(table)
    return _preview_report(parsed, plan_in_chunks(parsed.rows))


def _preview_report(parsed: ParsedFile, plan: Plan) -> dict:
    return {
        **plan.as_report(),
        "encoding": parsed.encoding,
        "unknown_columns": parsed.unknown_columns,
        "score_columns": parsed.score_columns,
        "total": len(parsed.rows),
    }


def create_preview(content: bytes, file_name: str, user) -> DiagnosticImport:
    """Read and plan an uploaded file, and keep its preview and its rows (the upload step).

    The rows are kept as the apply's chunks, ``DIAGNOSTICS_IMPORT_CHUNK_SIZE`` rows each, read
    and checked here once: the apply reads nothing of the file again, and each chunk's task
    reads only its own rows, whatever the file's length.
    """
    parsed = read_rows(read_file(content, file_name))
    report = _preview_report(parsed, plan_in_chunks(parsed.rows))
    size = iom_settings.DIAGNOSTICS_IMPORT_CHUNK_SIZE
    with transaction.atomic():
        job = DiagnosticImport.objects.create(
            uploaded_by=user if user and user.pk else None,
            file_name=file_name[:255],
            report=report,
            total_rows=len(parsed.rows),
            chunk_size=size,
        )
        _keep_rows(job, parsed.rows, size)
    return job


def _keep_rows(job, rows, size):
    """Keep ``rows`` (read and checked) as ``job``'s chunks of ``size`` rows. A few chunks per
    insert, each built just before it: the rows are not held twice."""
    starts = list(range(0, len(rows), size))
    for first in range(0, len(starts), CHUNKS_PER_INSERT):
        bulk.bulk_create(
            DiagnosticImportChunk,
            [
                DiagnosticImportChunk(
                    job=job,
                    index=index,
                    rows=[row_to_data(row) for row in rows[start : start + size]],
                )
                for index, start in enumerate(
                    starts[first : first + CHUNKS_PER_INSERT], start=first
                )
            ],
            batch_size=CHUNKS_PER_INSERT,
        )


def start_apply(job: DiagnosticImport, language=None) -> DiagnosticImport:
    """Begin the apply of a previewed import: invite the teachers who are not registered
    (from the preview), then start one task per chunk when this transaction commits. Nothing
    of the file is read again: the chunks hold its rows since the preview.

    Raises :class:`DiagnosticImportError` when the import is not a preview any more.
    """
    with transaction.atomic():
        job = DiagnosticImport.objects.select_for_update().defer("table").get(pk=job.pk)
        if job.status != DiagnosticImportStatus.PREVIEWED:
            raise DiagnosticImportError(_("This import has already been applied or has failed."))
        people = [p for p in job.report.get("not_registered") or [] if not p.get("invited")]
        # Accounts that exist by now are left as they are; a chunk stores a new teacher's SNILS
        # (as a keyed hash) when it finds the account.
        users = invite_teachers(people)
        indexes = list(job.chunks.order_by("index").values_list("index", flat=True))
        if not indexes:
            indexes = _chunks_of_an_earlier_preview(job)
        job.status = DiagnosticImportStatus.APPLYING
        job.processed_rows = job.failed_rows = 0
        job.started_at = timezone.now()
        job.report = {**job.report, "invited": [user.pk for user in users]}
        if not indexes:
            job.status = DiagnosticImportStatus.APPLIED
            job.finished_at = job.started_at
            job.report.pop("rows", None)
        job.save(
            update_fields=[
                "status",
                "processed_rows",
                "failed_rows",
                "started_at",
                "finished_at",
                "report",
            ]
        )
        for index in indexes:
            mail.enqueue_on_commit("apply_diagnostic_import_chunk", job.pk, index, language)
    return job


def _chunks_of_an_earlier_preview(job) -> list[int]:
    """A preview made before its rows were kept in chunks (an earlier version kept the file in
    ``DiagnosticImport.table``, and the apply read it): its chunks, made now, as the upload
    makes them today; the table is emptied."""
    table = DiagnosticImport.objects.values_list("table", flat=True).get(pk=job.pk)
    if not table:
        return []
    rows = read_rows(table).rows
    size = iom_settings.DIAGNOSTICS_IMPORT_CHUNK_SIZE
    _keep_rows(job, rows, size)
    DiagnosticImport.objects.filter(pk=job.pk).update(
        table={}, chunk_size=size, total_rows=len(rows)
    )
    job.chunk_size, job.total_rows = size, len(rows)
    return list(range((len(rows) + size - 1) // size))


def apply_chunk(job_id: int, index: int) -> bool:
    """Write one chunk of an import in one transaction. True when it was written now.

    A chunk already written (or failed) is left alone, so a repeated task does nothing. A chunk
    that fails is rolled back entirely, marked failed with its rows reported, and the other
    chunks go on.
    """
    job = (
        DiagnosticImport.objects.filter(pk=job_id, status=DiagnosticImportStatus.APPLYING)
        .defer("table", "report")
        .first()
    )
    if job is None:
        return False
    rows = []
    try:
        with transaction.atomic():
            chunk = (
                DiagnosticImportChunk.objects.select_for_update()
                .filter(job_id=job_id, index=index, status=DiagnosticImportChunkStatus.PENDING)
                .first()
            )
            if chunk is None:
                return False
            rows = [row_from_data(data) for data in chunk.rows]
            plan = plan_rows(rows)
            write_plan(plan, entered_by_id=job.uploaded_by_id)
            chunk.status = DiagnosticImportChunkStatus.DONE
            chunk.counts = plan.counts
            chunk.rejected = [row.__dict__ for row in plan.rejected]
            chunk.result_ids = [result.pk for result, _scores in plan.new_results] + [
                result.pk for result, _scores, _existing in plan.changed_results
            ]
            chunk.rows = []  # written: the teachers' addresses and scores are not kept twice
            chunk.save(update_fields=["status", "counts", "rejected", "result_ids", "rows"])
            DiagnosticImport.objects.filter(pk=job_id).update(
                processed_rows=F("processed_rows") + _chunk_length(job, index)
            )
    except Exception as exc:
        # Whatever failed, the chunk's transaction is rolled back: record that, and go on.
        logger.exception("Chunk %s of diagnostics import %s failed", index, job_id)
        _chunk_failed(job, index, rows, exc)
    _finish(job_id, job.total_rows)
    return True


def _chunk_length(job, index) -> int:
    """The rows of the file in chunk ``index`` (counted even when some were dropped since, e.g.
    by the depersonalisation of a teacher)."""
    return max(0, min(job.chunk_size, job.total_rows - index * job.chunk_size))


def _chunk_failed(job, index, rows, exc):
    if not rows:
        kept = (
            DiagnosticImportChunk.objects.filter(job_id=job.pk, index=index)
            .values_list("rows", flat=True)
            .first()
        )
        rows = [row_from_data(data) for data in kept or []]
    if rows:
        reason = _(
            "Lines %(first)d–%(last)d could not be saved, and none of them was written "
            "(%(error)s). Upload the file again to import them: rows already imported are "
            "not repeated."
        ) % {"first": rows[0].line, "last": rows[-1].line, "error": exc.__class__.__name__}
    else:
        reason = _("This part of the file could not be saved (%(error)s).") % {
            "error": exc.__class__.__name__
        }
    with transaction.atomic():
        updated = DiagnosticImportChunk.objects.filter(
            job_id=job.pk, index=index, status=DiagnosticImportChunkStatus.PENDING
        ).update(
            status=DiagnosticImportChunkStatus.FAILED,
            rows=[],
            error=str(exc)[:2000],
            rejected=[{"line": row.line, "reason": reason, "values": row.values} for row in rows],
        )
        if updated:
            DiagnosticImport.objects.filter(pk=job.pk).update(
                failed_rows=F("failed_rows") + _chunk_length(job, index)
            )


def _finish(job_id, total_rows):
    # Once every row is applied or rejected, the rows read from the file (teachers' addresses
    # and scores) are no longer needed: only the report of the chunks stays.
    finished = DiagnosticImport.objects.filter(
        pk=job_id,
        status=DiagnosticImportStatus.APPLYING,
        total_rows__lte=F("processed_rows") + F("failed_rows"),
    ).update(status=DiagnosticImportStatus.APPLIED, finished_at=timezone.now(), table={})
    if finished:
        _drop_previewed_rows(job_id)
        _refresh_statistics(total_rows)
        _draft_routes(job_id)


#: An import of at least this many rows has the database's statistics of the results and
#: scores refreshed before the route drafts are built.
ANALYZE_FROM_ROWS = 1_000


def _refresh_statistics(total_rows):
    """Refresh PostgreSQL's statistics of the results and scores after a large import.

    The planner picks its plans from them, and autovacuum refreshes them only some time after a
    bulk write: meanwhile the tables look as small as before the import, and the drafts' reads
    of a teacher's scores walked the whole scores index (45 ms a teacher instead of 0.2 ms,
    measured with 90,000 scores). ``ANALYZE`` samples the tables, whatever their size.
    """
    if connection.vendor != "postgresql" or total_rows < ANALYZE_FROM_ROWS:
        return
    tables = [DiagnosticResult._meta.db_table, CompetencyScore._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def _draft_routes(job_id):
    """Route drafts for the teachers whose results the import wrote (the routes domain builds
    them: the task is started by name, once the import's last chunk has committed)."""
    # Only the chunk whose update finished the import gets here: it runs once per import.
    result_ids = []
    for ids in DiagnosticImportChunk.objects.filter(
        job_id=job_id, status=DiagnosticImportChunkStatus.DONE
    ).values_list("result_ids", flat=True):
        result_ids += ids or []
    # Batches of results, so that the workers share the drafts of a large import.
    for start in range(0, len(result_ids), DRAFT_BATCH_SIZE):
        mail.enqueue_on_commit(
            "build_route_drafts",
            result_ids[start : start + DRAFT_BATCH_SIZE],
            translation.get_language(),
        )


def _drop_previewed_rows(job_id):
    """The preview's sample of the rows to write goes too; its counts, rejected rows and
    unregistered teachers (for the invitations) stay."""
    # Only the chunk whose update finished the import gets here: no lock is needed.
    report = DiagnosticImport.objects.values_list("report", flat=True).get(pk=job_id)
    if "rows" in report:
        report = {key: value for key, value in report.items() if key != "rows"}
        DiagnosticImport.objects.filter(pk=job_id).update(report=report)


def progress(job: DiagnosticImport) -> dict:
    """The state of an import for the admin's progress bar (JSON)."""
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "total": job.total_rows,
        "processed": job.processed_rows,
        "failed": job.failed_rows,
        "percent": job.percent,
        "finished": job.status in (DiagnosticImportStatus.APPLIED, DiagnosticImportStatus.FAILED),
    }


def apply_report(job: DiagnosticImport) -> dict:
    """What the chunks did so far: counts, rejected rows (in line order), failed chunks."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    rejected = []
    failed = 0
    for chunk in job.chunks.all():
        for key, value in (chunk.counts or {}).items():
            counts[key] = counts.get(key, 0) + value
        rejected += chunk.rejected or []
        if chunk.status == DiagnosticImportChunkStatus.FAILED:
            failed += 1
            counts["failed"] = counts.get("failed", 0) + len(chunk.rejected or [])
    rejected.sort(key=lambda row: row["line"])
    return {"counts": counts, "rejected": rejected, "failed_chunks": failed}


def pending_invitations(job: DiagnosticImport):
    """The accounts this import invited whose invitation has not gone out yet."""
    return Invitation.objects.filter(
        user_id__in=job.report.get("invited", []), sent_at__isnull=True, accepted_at__isnull=True
    ).select_related("user")


def confirm_invitations(job: DiagnosticImport, language=None) -> int:
    """Staff confirmed: e-mail the invitations of this import (each account once, ever)."""
    with transaction.atomic():
        updated = DiagnosticImport.objects.filter(
            pk=job.pk, status=DiagnosticImportStatus.APPLIED, invitations_sent_at__isnull=True
        ).update(invitations_sent_at=timezone.now())
        if not updated:
            return 0
        user_ids = list(pending_invitations(job).values_list("user_id", flat=True))
        account_emails.invitations_confirmed(user_ids, language)
    return len(user_ids)


def delete_stale_previews(now=None) -> int:
    """Delete previewed imports never applied, after ``IMPORT_PREVIEW_RETENTION_DAYS``, with
    the rows they keep; returns how many imports were deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(
        days=iom_settings.IMPORT_PREVIEW_RETENTION_DAYS
    )
    _deleted, by_model = DiagnosticImport.objects.filter(
        status=DiagnosticImportStatus.PREVIEWED, created_at__lt=cutoff
    ).delete()
    return by_model.get(DiagnosticImport._meta.label, 0)
