"""core.bulk: bulk inserts of rows with large JSON documents."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_iom.core import bulk
from wagtail_iom.models import DiagnosticImport, DiagnosticImportChunk

pytestmark = pytest.mark.django_db

DOCUMENT = [{"line": n, "text": 'a "quoted" \\ value', "scores": {"K1": n}} for n in range(50)]


def chunks(job, count):
    return [
        DiagnosticImportChunk(job=job, index=index, rows=DOCUMENT, counts={"create": index})
        for index in range(count)
    ]


def test_the_rows_are_written_as_given_in_batches():
    job = DiagnosticImport.objects.create(file_name="a.csv")

    with CaptureQueriesContext(connection) as queries:
        created = bulk.bulk_create(DiagnosticImportChunk, chunks(job, 5), batch_size=2)

    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3
    assert [c.counts for c in created] == [{"create": n} for n in range(5)]  # values put back
    stored = DiagnosticImportChunk.objects.filter(job=job).order_by("index")
    assert [(c.index, c.rows, c.counts) for c in stored] == [
        (n, DOCUMENT, {"create": n}) for n in range(5)
    ]
    if connection.features.can_return_rows_from_bulk_insert:
        assert sorted(c.pk for c in created) == sorted(c.pk for c in stored)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's UNNEST inserts")
def test_postgresql_inserts_with_values_not_unnest():
    first, second = (DiagnosticImport.objects.create(file_name=f"{n}.csv") for n in "ab")

    with CaptureQueriesContext(connection) as plain:
        DiagnosticImportChunk.objects.bulk_create(chunks(first, 3))
    with CaptureQueriesContext(connection) as queries:
        bulk.bulk_create(DiagnosticImportChunk, chunks(second, 3))

    # Django's own bulk insert takes UNNEST here: the helper exists because of it.
    assert "UNNEST" in plain.captured_queries[-1]["sql"]
    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert "UNNEST" not in insert and "VALUES" in insert


def test_a_model_without_a_json_field_is_refused_on_every_database():
    from wagtail_iom.models import Municipality

    with pytest.raises(ValueError):
        bulk.bulk_create(Municipality, [Municipality(name="A"), Municipality(name="B")])
