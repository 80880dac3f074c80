"""docs/personal-data.md classifies every text, e-mail, address, URL, file and JSON field of
the package's models: personal (with its treatment) or not personal."""

import re
from pathlib import Path

from django.apps import apps
from django.db import models
from wagtail.fields import RichTextField, StreamField

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "personal-data.md"
ROW = re.compile(
    r"^\|\s*`(?P<model>\w+)\.(?P<field>\w+)`\s*\|\s*(?P<class>[^|]+?)\s*\|"
    r"\s*(?P<treatment>[^|]*?)\s*\|$"
)

#: The kinds of field that can hold what a person wrote or is called (EmailField, URLField and
#: SlugField are CharFields; ImageField is a FileField).
TEXT_KINDS = (
    models.CharField,
    models.TextField,
    models.FileField,
    models.JSONField,
    models.GenericIPAddressField,
    StreamField,
    RichTextField,
)


def package_text_fields():
    for model in apps.get_app_config("wagtail_iom").get_models():
        for field in model._meta.local_concrete_fields:
            if isinstance(field, TEXT_KINDS):
                yield f"{model.__name__}.{field.name}"


def classified():
    rows = {}
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            name = f"{match['model']}.{match['field']}"
            assert name not in rows, f"{name} is classified twice"
            rows[name] = (match["class"].strip(), match["treatment"].strip())
    return rows


def test_every_text_field_of_the_package_is_classified():
    rows = classified()
    missing = sorted(set(package_text_fields()) - set(rows))
    assert not missing, (
        f"Classify these fields in {DOCUMENT.name} (personal, with the treatment, or not "
        f"personal): {', '.join(missing)}"
    )


def test_each_classification_is_personal_with_a_treatment_or_not_personal():
    for name, (kind, treatment) in classified().items():
        assert kind in {"personal", "not personal"}, f"{name}: {kind!r}"
        if kind == "personal":
            assert treatment, f"{name} is personal: say what depersonalisation does to it"


def test_the_document_names_no_field_that_does_not_exist():
    existing = set()
    for model in apps.get_app_config("wagtail_iom").get_models():
        existing.update(f"{model.__name__}.{field.name}" for field in model._meta.get_fields())
    stale = sorted(set(classified()) - existing)
    assert not stale, f"{DOCUMENT.name} names fields that no longer exist: {', '.join(stale)}"


def test_the_inventory_sees_the_fields_it_must():
    fields = set(package_text_fields())
    # A text, a file, a JSON, an IP address and a StreamField: each kind is found.
    for name in (
        "TeacherProfile.last_name",
        "StepCompletion.evidence_file",
        "Route.profile_snapshot",
        "PersonalDataConsent.ip_address",
        "Route.roadmap",
        "TeacherLogEntry.label",
    ):
        assert name in fields
