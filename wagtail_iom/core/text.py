"""Small text helpers shared by models and services."""

from __future__ import annotations

from django.db.models import Q

#: The name fields of a person (TeacherProfile, PendingTeacherName).
PERSON_NAME_FIELDS = ("last_name", "first_name", "patronymic")
#: Words of a name search beyond this many are ignored (a query, not a text).
NAME_SEARCH_MAX_WORDS = 5


def name_key(text: str) -> str:
    """How names are compared: case, ё/е and runs of spaces do not matter.

    Stored beside names (``name_key``) so that uniqueness holds on every database: SQLite's
    ``LOWER()`` folds only ASCII letters, so a constraint on ``Lower("name")`` would let
    «Гимназия» and «ГИМНАЗИЯ» both in.
    """
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def name_search(query: str, fields=PERSON_NAME_FIELDS) -> Q:
    """A filter for names: every word of ``query`` occurs in one of the name ``fields``.

    Names are not in the search index, so this runs in the database. SQLite's ``LIKE`` folds
    only ASCII letters, so «петр» would miss «Петров» there: each word is also tried
    lower-case, capitalised and upper-case, and with «е» for «ё», which names are often typed
    without.
    """
    condition = Q()
    for word in query.split()[:NAME_SEARCH_MAX_WORDS]:
        variants = {word, word.lower(), word.capitalize(), word.upper()}
        variants |= {v.replace("ё", "е").replace("Ё", "Е") for v in variants}
        matches_word = Q()
        for field in fields:
            for variant in variants:
                matches_word |= Q(**{f"{field}__icontains": variant})
        condition &= matches_word
    return condition


def participant_name(user) -> str:
    """A person's name for lists and certificates: the teacher's profile (last, first and
    patronymic), else the account's name, else the username. No query when the profile was
    fetched with ``select_related("user__iom_teacher_profile")``."""
    # A missing profile raises RelatedObjectDoesNotExist, an AttributeError: getattr's default.
    profile = getattr(user, "iom_teacher_profile", None)
    name = profile.full_name if profile is not None else ""
    return name or user.get_full_name() or user.get_username()
