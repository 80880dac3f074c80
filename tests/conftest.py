import pytest
from django.core.cache import cache

from tests.factories import SuperUserFactory, make_resource_map


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts and ends with an empty cache (feeds, feed versions, throttles)."""
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
