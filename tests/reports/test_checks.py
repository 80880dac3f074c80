"""The check of WAGTAIL_IOM["REPORT_STATUS_GROUPS"] (wagtail_iom.E014)."""

import pytest

from wagtail_iom.checks import check_iom_settings


def ids(settings, groups):
    settings.WAGTAIL_IOM = {"REPORT_STATUS_GROUPS": groups}
    return [error.id for error in check_iom_settings(None)]


def test_valid_groups_pass(settings):
    groups = {"open": {"label": "Open", "statuses": ["development", "implementation"]}}
    assert ids(settings, groups) == []


def test_the_default_passes(settings):
    settings.WAGTAIL_IOM = {}
    assert check_iom_settings(None) == []


def test_an_unknown_status_is_refused(settings):
    settings.WAGTAIL_IOM = {
        "REPORT_STATUS_GROUPS": {"open": {"label": "Open", "statuses": ["draft"]}}
    }
    (error,) = check_iom_settings(None)
    assert error.id == "wagtail_iom.E014"
    assert "'draft'" in error.msg


def test_a_status_in_two_groups_is_refused(settings):
    settings.WAGTAIL_IOM = {
        "REPORT_STATUS_GROUPS": {
            "open": {"label": "Open", "statuses": ["development", "approved"]},
            "working": {"label": "Working", "statuses": ["approved"]},
        }
    }
    (error,) = check_iom_settings(None)
    assert error.id == "wagtail_iom.E014"
    assert "'approved' is in two columns" in error.msg


@pytest.mark.parametrize(
    "groups",
    [[], {}, {"open": "development"}, {"open": {"statuses": ["development"]}}],
)
def test_a_malformed_setting_is_refused(settings, groups):
    assert ids(settings, groups) == ["wagtail_iom.E014"]
