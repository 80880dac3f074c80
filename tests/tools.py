"""The optional system tools that some tests need, and what each adds.

A test that needs one says so with ``@pytest.mark.requires_tool("pdftotext")``. Where the tool
is missing the test is skipped, and the reason (the tool, its Debian package, what it checks)
shows in pytest's summary. With ``IOM_REQUIRE_TOOLS=1`` (CI, which installs every tool) a
missing tool stops the run before any test instead, so that nothing is skipped there unnoticed.

``python tests/tools.py`` prints the tools missing on this machine and what they would add;
``make test`` runs it before the tests. It only reports (exit status 0), unless
``IOM_REQUIRE_TOOLS=1``: then a missing tool is exit status 1.

This module is imported by ``tests/conftest.py`` and run as a script: it imports neither Django
nor the package.
"""

import functools
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

STRICT_ENV = "IOM_REQUIRE_TOOLS"


@functools.cache
def weasyprint_loads() -> bool:
    """WeasyPrint imports: it loads Pango from the system when imported, and raises OSError
    when Pango is missing (ImportError when the ``pdf`` extra is not installed)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@dataclass(frozen=True)
class Tool:
    name: str
    package: str  # what to install on Debian or Ubuntu
    adds: str  # what the tests that need it check
    # How to tell that it is there; a command on PATH when None.
    check: Callable[[], bool] | None = None

    def available(self) -> bool:
        if self.check is not None:
            return self.check()
        return shutil.which(self.name) is not None

    def reason(self) -> str:
        return f"needs {self.name} (apt-get install {self.package}): {self.adds}"


TOOLS = {
    tool.name: tool
    for tool in (
        Tool(
            "pango",
            "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core",
            "WeasyPrint makes PDF files (certificates, printed routes, routes e-mailed to "
            "school heads)",
            check=weasyprint_loads,
        ),
        Tool("pdftotext", "poppler-utils", "reads back the text of the PDF files made"),
        Tool("pdfinfo", "poppler-utils", "counts the pages of the PDF files made (the audit)"),
        Tool(
            "pdftoppm",
            "poppler-utils",
            "draws the printed route's PDF pages as pictures (make test-browser)",
        ),
        Tool("xgettext", "gettext", "finds source strings that have no Russian translation"),
        Tool("chromium", "chromium", "runs the browser tests (make test-browser)"),
        Tool("npm", "npm", "installs axe-core for the browser tests (make test-browser)"),
    )
}


def strict() -> bool:
    """Whether a missing tool is an error (CI) rather than a reason to skip."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def missing(names=None) -> list[Tool]:
    """The tools of ``names`` (every known tool when None) that this machine lacks."""
    names = TOOLS if names is None else names
    unknown = [name for name in names if name not in TOOLS]
    if unknown:
        raise ValueError(f"unknown tool(s) {unknown}: describe them in tests/tools.py")
    return [TOOLS[name] for name in names if not TOOLS[name].available()]


def reason(absent) -> str:
    """Why a test that needs the tools ``absent`` does not run."""
    return "; ".join(tool.reason() for tool in absent)


def report(out=sys.stdout) -> int:
    """Print the missing tools and what they would add; the exit status."""
    absent = missing()
    if not absent:
        return 0
    print("Optional system tools missing here; the tests that need them are skipped:", file=out)
    for tool in absent:
        print(f"  {tool.name:<10} apt-get install {tool.package}", file=out)
        print(f"  {'':<10} {tool.adds}", file=out)
    if strict():
        print(f"{STRICT_ENV} is set: every tool is required.", file=out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(report())
