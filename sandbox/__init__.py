"""The demo institute site that shows wagtail-iom at work."""

from sandbox.celery import app as celery_app

__all__ = ["celery_app"]
