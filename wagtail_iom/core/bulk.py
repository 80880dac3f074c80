"""Bulk inserts of rows that carry large JSON documents.

From Django 5.2 on, ``bulk_create`` on PostgreSQL sends each column as one array and inserts
``SELECT * FROM UNNEST(...)``. psycopg writes a text array by escaping every quote of every
element with a regular expression in Python, so a column of JSON documents costs time in
proportion to their quotes: a batch of 470 route drafts (a route and its revision, some
20 kB of JSON each) spent 7 of its 12 seconds there. A plain multi-row ``VALUES`` insert has
libpq quote each document instead, in C.

Django keeps ``VALUES`` for a batch in which a value is an expression. :func:`bulk_create`
gives the first object of each batch one JSON value as a ``Value`` of the same field (the
same data is written), then puts the value back.
"""

from django.db import connections, router
from django.db.models import JSONField, Value

#: Rows per INSERT statement: the documents of a batch travel in one statement.
BATCH_SIZE = 100


def _document_field(model):
    for field in model._meta.concrete_fields:
        if isinstance(field, JSONField) and not field.primary_key:
            return field
    raise ValueError(f"{model.__name__} has no JSON field.")


def bulk_create(model, objs, batch_size=BATCH_SIZE, **kwargs) -> list:
    """``model.objects.bulk_create(objs, **kwargs)`` in batches of ``batch_size``, each
    inserted with ``VALUES`` rather than ``UNNEST`` on PostgreSQL (see the module's
    documentation). Returns the objects, with their primary keys where the database returns
    them."""
    objs = list(objs)
    manager = model._base_manager
    database = router.db_for_write(model)
    field = _document_field(model)
    if connections[database].vendor != "postgresql":
        return manager.bulk_create(objs, batch_size=batch_size, **kwargs)
    created = []
    for start in range(0, len(objs), batch_size):
        batch = objs[start : start + batch_size]
        first = batch[0]
        value = getattr(first, field.attname)
        setattr(first, field.attname, Value(value, output_field=field))
        try:
            created += manager.bulk_create(batch, **kwargs)
        finally:
            setattr(first, field.attname, value)
    return created
