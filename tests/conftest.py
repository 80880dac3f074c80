import pytest
from django.core.cache import cache
from django.utils import translation

from tests import tools
from tests.factories import SuperUserFactory, make_resource_map


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(items):
    """``@pytest.mark.requires_tool("pdftotext", …)``: a test that needs a system tool missing
    here is skipped, and the summary says why; with ``IOM_REQUIRE_TOOLS=1`` (CI) the run stops
    instead. See tests/tools.py."""
    for item in items:
        names = [name for marker in item.iter_markers("requires_tool") for name in marker.args]
        absent = tools.missing(names)
        if not absent:
            continue
        if tools.strict():
            raise pytest.UsageError(
                f"{tools.STRICT_ENV} is set, and {item.nodeid} {tools.reason(absent)}"
            )
        item.add_marker(pytest.mark.skip(reason=tools.reason(absent)))


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts and ends with an empty cache (feeds, feed versions)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resource_map(db):
    return make_resource_map()


@pytest.fixture
def superuser(db):
    return SuperUserFactory(username="admin")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def teacher(db):
    """A teacher with a profile (consent given)."""
    from tests.factories import make_teacher

    return make_teacher(username="teacher")


@pytest.fixture
def other_teacher(db):
    """A second teacher, to prove that one cannot reach the other's data."""
    from tests.factories import make_teacher

    return make_teacher(username="other", last_name="Петров", first_name="Иван")


@pytest.fixture
def teacher_client(client, teacher):
    client.force_login(teacher.user)
    return client


@pytest.fixture
def english_messages():
    """Service tests read messages in the source language; tests/test_translations.py covers
    Russian. Modules use it with ``pytest.mark.usefixtures("english_messages")``."""
    with translation.override("en"):
        yield
