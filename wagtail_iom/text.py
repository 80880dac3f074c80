"""Small text helpers shared by models and services."""


def name_key(text: str) -> str:
    """How names are compared: case, ё/е and runs of spaces do not matter.

    Stored beside names (``name_key``) so that uniqueness holds on every database: SQLite's
    ``LOWER()`` folds only ASCII letters, so a constraint on ``Lower("name")`` would let
    «Гимназия» and «ГИМНАЗИЯ» both in.
    """
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split()).casefold()
