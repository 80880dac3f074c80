import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    """Service tests read messages in the source language; tests/test_translations.py covers Russian."""
    with translation.override("en"):
        yield
