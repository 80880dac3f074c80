"""The wheel carries what an installing site needs, and nothing of the demo or the tests."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    (wheel,) = out.glob("wagtail_iom-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_carries_templates_static_migrations_and_translations(wheel_names):
    for expected in (
        "wagtail_iom/templates/wagtail_iom/base.html",
        "wagtail_iom/templates/wagtail_iom/admin/directory_import/upload.html",
        "wagtail_iom/static/wagtail_iom/css/iom.css",
        "wagtail_iom/migrations/0001_initial.py",
        "wagtail_iom/migrations/0002_default_competency_framework.py",
        "wagtail_iom/locale/ru/LC_MESSAGES/django.po",
        "wagtail_iom/locale/ru/LC_MESSAGES/django.mo",
    ):
        assert expected in wheel_names


def test_every_package_template_and_migration_is_in_the_wheel(wheel_names):
    package = ROOT / "wagtail_iom"
    for path in list(package.glob("templates/**/*.html")) + list(package.glob("migrations/*.py")):
        assert str(path.relative_to(ROOT)) in wheel_names


def test_wheel_leaves_out_the_sandbox_and_the_tests(wheel_names):
    assert not [n for n in wheel_names if n.startswith(("sandbox/", "tests/", "bench/"))]
    assert not [n for n in wheel_names if "__pycache__" in n]
