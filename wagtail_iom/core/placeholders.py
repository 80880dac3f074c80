"""Texts with placeholders that staff edit in the admin: a name in braces, e.g. ``{teacher}``.

:func:`fill` replaces the known names and leaves anything else as it stands (no attribute or
index lookups, no format specifications: a template is text, never code, unlike
``str.format``); :func:`unknown` lists the names in braces that are not known, for the form
that refuses them. Route drafts (directory/draft_templates.py) and the curators'
recommendation letter (curators/recommendations.py) use them.
"""

import re

# Anything in braces on one line is a placeholder: "{teacher}", but also "{teacher.user}" or
# "{0}", which are unknown rather than filled.
PATTERN = re.compile(r"\{([^{}\n]*)\}")


def fill(text: str, values: dict, known=None) -> str:
    """``text`` with each placeholder that ``values`` has (and ``known`` names, when given)
    replaced by its value; every other name in braces left as it is."""

    def replace(match):
        name = match.group(1)
        if name in values and (known is None or name in known):
            return str(values[name])
        return match.group(0)

    return PATTERN.sub(replace, text or "")


def unknown(known, *texts) -> list[str]:
    """The names in braces in ``texts`` that ``known`` does not hold, each once, in order."""
    names = (name for text in texts for name in PATTERN.findall(text or ""))
    return list(dict.fromkeys(name for name in names if name not in known))
