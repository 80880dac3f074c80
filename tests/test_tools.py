"""Tests that need an optional system tool skip, with the reason, where it is missing (tests/tools.py)."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest, tools

ROOT = Path(__file__).resolve().parent.parent


class Item:
    """A stand-in for a collected test that carries ``@pytest.mark.requires_tool(*names)``."""

    nodeid = "tests/test_x.py::test_x"

    def __init__(self, *names):
        self.marks = [pytest.mark.requires_tool(*names).mark]
        self.added = []

    def iter_markers(self, name):
        return iter(self.marks if name == "requires_tool" else [])

    def add_marker(self, marker):
        self.added.append(marker.mark)


@pytest.fixture
def no_commands(monkeypatch):
    """A machine where no command is on PATH, outside CI's strict mode."""
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.delenv(tools.STRICT_ENV, raising=False)


def test_a_missing_tool_skips_the_test_with_the_reason(no_commands):
    item = Item("pdftotext")

    conftest.pytest_collection_modifyitems([item])

    (skip,) = item.added
    assert skip.name == "skip"
    reason = skip.kwargs["reason"]
    assert "pdftotext" in reason
    assert "apt-get install poppler-utils" in reason
    assert tools.TOOLS["pdftotext"].adds in reason


def test_a_tool_that_is_there_does_not_skip(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: f"/usr/bin/{name}")
    item = Item("pdftotext", "xgettext")

    conftest.pytest_collection_modifyitems([item])

    assert item.added == []


def test_in_strict_mode_a_missing_tool_stops_the_run(no_commands, monkeypatch):
    monkeypatch.setenv(tools.STRICT_ENV, "1")

    with pytest.raises(pytest.UsageError, match="poppler-utils"):
        conftest.pytest_collection_modifyitems([Item("pdftotext")])


def test_an_unknown_tool_is_an_error(no_commands):
    with pytest.raises(ValueError, match="tests/tools.py"):
        conftest.pytest_collection_modifyitems([Item("pdftotxt")])


def _tools_run_by(function):
    """The known tools that ``function`` runs as ``subprocess.run(["tool", …])``."""
    found = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "subprocess"
            and node.args
            and isinstance(node.args[0], ast.List)
            and node.args[0].elts
            and isinstance(node.args[0].elts[0], ast.Constant)
            and node.args[0].elts[0].value in tools.TOOLS
        ):
            found.add(node.args[0].elts[0].value)
    return found


def _required_tools(function):
    names = set()
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "requires_tool"
        ):
            names.update(arg.value for arg in decorator.args if isinstance(arg, ast.Constant))
    return names


def test_every_test_that_runs_a_system_tool_says_so():
    unmarked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                missing = _tools_run_by(node) - _required_tools(node)
                if missing:
                    unmarked.append(f"{path.relative_to(ROOT)}::{node.name} {sorted(missing)}")
    assert unmarked == [], "add @pytest.mark.requires_tool(...) to these tests"


def _run(args, tmp_path, **env):
    """Run ``args`` with no command on PATH (an empty folder), outside CI's strict mode."""
    environ = {key: value for key, value in os.environ.items() if key != tools.STRICT_ENV}
    environ.update(PATH=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True
    )


def test_the_report_names_what_is_missing_and_what_it_adds(tmp_path):
    result = _run(["tests/tools.py"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "pdftotext" in result.stdout and "apt-get install poppler-utils" in result.stdout
    assert tools.TOOLS["pdftotext"].adds in result.stdout
    assert "xgettext" in result.stdout and tools.TOOLS["xgettext"].adds in result.stdout


def test_the_report_fails_in_strict_mode(tmp_path):
    result = _run(["tests/tools.py"], tmp_path, **{tools.STRICT_ENV: "1"})

    assert result.returncode == 1
    assert "pdftotext" in result.stdout


@pytest.mark.slow
def test_pytest_shows_why_a_test_was_skipped(tmp_path):
    """The PDF tests of test_documents.py (one per layout) failed where pdftotext was
    missing."""
    result = _run(
        ["-m", "pytest", "tests/routes/test_documents.py", "-k", "pdf_text"],
        tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    skipped = re.search(r"(\d+) skipped", result.stdout)
    assert skipped and int(skipped.group(1)) >= 3, result.stdout
    # The summary names the tests' own file and the reason.
    assert f"SKIPPED [{skipped.group(1)}] tests/routes/test_documents.py" in result.stdout
    assert "apt-get install poppler-utils" in result.stdout
