"""StreamField blocks of the package: event bodies now, route builders later."""

from .event import EventBodyBlock

__all__ = ["EventBodyBlock"]
