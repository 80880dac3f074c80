"""The package's layout rules that import-linter cannot express.

The layering itself (core imports no domain, the domains one way, models import no views...)
is in ``.importlinter`` and runs in CI as ``lint-imports``; the test below runs it too, so that
``make test`` alone tells a contributor when a change breaks it.
"""

import ast
import importlib
import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "wagtail_iom"

# Django's and the standard library's own underscore attributes that every module may use.
ALLOWED_PRIVATE_ATTRIBUTES = {"_meta", "_default_manager", "_base_manager", "_state"}


def package_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def is_private(name):
    return name.startswith("_") and not name.startswith("__")


def private_uses(path):
    """``(line, text)`` of every underscore name that ``path`` takes from another module of the
    package: imported by name, or read as an attribute of an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith("wagtail_iom")
        ):
            for alias in node.names:
                if is_private(alias.name):
                    found.append((node.lineno, f"imports {alias.name} from {node.module}"))
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("wagtail_iom"):
                    imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
            and is_private(node.attr)
            and node.attr not in ALLOWED_PRIVATE_ATTRIBUTES
        ):
            found.append((node.lineno, f"uses {node.value.id}.{node.attr}"))
    return found


def test_no_module_takes_another_modules_underscore_names():
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {what}"
        for path in package_modules()
        for line, what in private_uses(path)
    ]
    assert offences == [], (
        "Make the name public (no underscore) or move the code that needs it:\n"
        + "\n".join(offences)
    )


def test_the_rule_sees_an_underscore_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "from wagtail_iom.core.mail import _secret\n"
        "from wagtail_iom.core import mail\n"
        "mail._hidden()\n"
        "mail.render\n"
    )
    assert [what for _line, what in private_uses(module)] == [
        "imports _secret from wagtail_iom.core.mail",
        "uses mail._hidden",
    ]


def test_root_modules_are_wiring_only():
    """Behaviour lives in the domain packages; the root keeps the wiring, the public import
    paths that projects use, and the deprecated paths of the old layout."""
    root_modules = {path.name for path in PACKAGE.glob("*.py")}
    assert root_modules == {
        "__init__.py",
        "api.py",
        "apps.py",
        "checks.py",
        "conf.py",
        "context_processors.py",
        "tasks.py",
        "urls.py",
        "wagtail_hooks.py",
        # deprecated import paths of the old layout, kept for one release
        "event_kinds.py",
        "timezones.py",
    }
    assert {path.name for path in (PACKAGE / "models").glob("*.py")} == {
        "__init__.py",
        "events.py",  # deprecated, kept for projects' migrations
    }


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("wagtail_iom.models.events", "default_event_timezone"),
        ("wagtail_iom.models.events", "validate_timezone"),
        ("wagtail_iom.event_kinds", "event_kind_choices"),
        ("wagtail_iom.timezones", "timezone_choices"),
        ("wagtail_iom.blocks.event", "EventBodyBlock"),
        ("wagtail_iom.blocks.routes", "RoadmapBlock"),
    ],
)
def test_old_import_paths_still_work_with_a_deprecation_warning(old, name):
    """Migrations of a project that subclasses EventPageMixin name these paths."""
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old):
        module = importlib.import_module(old)
    assert getattr(module, name) is not None


def test_the_public_paths_of_models_and_blocks():
    from wagtail_iom import blocks, models
    from wagtail_iom.events.blocks import EventBodyBlock
    from wagtail_iom.events.models import EventPage
    from wagtail_iom.routes.blocks import RoadmapBlock

    assert models.EventPage is EventPage
    assert blocks.EventBodyBlock is EventBodyBlock
    assert blocks.RoadmapBlock is RoadmapBlock
    assert set(models.__all__) <= set(dir(models))


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("lint-imports") is None
    and not (pathlib.Path(sys.executable).parent / "lint-imports").exists(),
    reason="import-linter is not installed (pip install -e '.[dev]')",
)
def test_the_import_contracts_are_kept():
    command = pathlib.Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(command) if command.exists() else "lint-imports", "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
