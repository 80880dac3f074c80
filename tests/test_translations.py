"""The Russian translation is complete: every source string has a finished Russian msgstr."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_iom"
PO_FILE = PACKAGE / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


def _unfinished(po):
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            yield entry.msgid, "fuzzy"
        elif entry.msgid_plural:
            if len(entry.msgstr_plural) < 3 or not all(entry.msgstr_plural.values()):
                yield entry.msgid, "plural forms missing"
        elif not entry.msgstr:
            yield entry.msgid, "empty"


def test_committed_po_has_no_empty_or_fuzzy_entries():
    assert list(_unfinished(polib.pofile(str(PO_FILE)))) == []


@pytest.mark.requires_tool("xgettext")
def test_every_translatable_string_of_the_package_is_translated(tmp_path):
    """Extract the strings afresh, so a new string without a translation fails here."""
    copy = tmp_path / "wagtail_iom"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    manage = Path(__file__).resolve().parent.parent / "manage.py"
    subprocess.run(
        [sys.executable, str(manage), "makemessages", "-l", "ru", "--no-obsolete", "--no-location"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    committed = {e.msgid for e in polib.pofile(str(PO_FILE)) if not e.obsolete}
    new_strings = sorted(e.msgid for e in fresh if e.msgid not in committed)
    assert new_strings == [], "run `make messages` and translate these"
    assert list(_unfinished(fresh)) == []


def test_compiled_catalogue_matches_the_po():
    po = polib.pofile(str(PO_FILE))
    mo = polib.mofile(str(MO_FILE))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    for entry in po:
        if entry.msgid and not entry.obsolete:
            expected = entry.msgstr_plural if entry.msgid_plural else entry.msgstr
            got = compiled.get((entry.msgctxt, entry.msgid))
            if entry.msgid_plural:
                assert {int(k): v for k, v in (got or {}).items()} == {
                    int(k): v for k, v in expected.items()
                }, entry.msgid
            else:
                assert got == expected, f"{entry.msgid!r}: run `make compilemessages`"


def test_the_package_speaks_russian():
    from django.utils import translation

    from wagtail_iom.models import SchoolKind

    with translation.override("ru"):
        assert str(SchoolKind.GYMNASIUM.label) == "Гимназия"


# The names under which makemessages (xgettext) finds translatable strings.
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


def test_translation_functions_keep_names_makemessages_knows():
    """A string marked with ``gettext`` imported under another name (``gettext as now``) is
    never extracted, so never translated, and no catalogue test would notice."""
    import ast

    renamed = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    if alias.name in GETTEXT_NAMES - {"_"} and alias.asname not in (
                        None,
                        *GETTEXT_NAMES,
                    ):
                        renamed.append(
                            f"{path.relative_to(PACKAGE)}: {alias.name} as {alias.asname}"
                        )
    assert renamed == []
