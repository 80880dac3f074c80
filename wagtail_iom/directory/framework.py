"""The default competency framework: groups and competencies loaded on install (subject,
methodical, psychological-pedagogical, communicative, and the meta-subject, digital, inclusive
and upbringing groups that some regions add).

The names are translatable strings; the data migration stores them in the site's
``LANGUAGE_CODE``, so a Russian site starts with Russian names. Editors change them afterwards
in the admin; the codes stay stable.
"""

from django.utils.translation import gettext_lazy as _

DEFAULT_FRAMEWORK = [
    {
        "code": "subject",
        "name": _("Subject competencies"),
        "description": _("Knowledge of the subject taught and of how it is assessed."),
        "competencies": [
            ("SUBJ-1", _("Command of the subject's content")),
            ("SUBJ-2", _("Solving the subject's problems, including olympiad ones")),
            ("SUBJ-3", _("Assessing learning results in the subject")),
        ],
    },
    {
        "code": "meta-subject",
        "name": _("Meta-subject competencies"),
        "description": _("Functional literacy and cross-curricular learning skills."),
        "competencies": [
            ("META-1", _("Developing students' functional literacy")),
            ("META-2", _("Teaching universal learning skills")),
        ],
    },
    {
        "code": "methodical",
        "name": _("Methodical competencies"),
        "description": _("Designing lessons and programmes to the federal standards."),
        "competencies": [
            ("METH-1", _("Designing lessons to the federal educational standard")),
            ("METH-2", _("Writing working programmes and assessment materials")),
            ("METH-3", _("Using modern teaching technologies")),
        ],
    },
    {
        "code": "psychological-pedagogical",
        "name": _("Psychological-pedagogical competencies"),
        "description": _("Understanding students' development and motivation."),
        "competencies": [
            ("PSY-1", _("Taking students' age and individual features into account")),
            ("PSY-2", _("Motivating students to learn")),
        ],
    },
    {
        "code": "communicative",
        "name": _("Communicative competencies"),
        "description": _("Working with students, parents and colleagues."),
        "competencies": [
            ("COMM-1", _("Building dialogue with students and parents")),
            ("COMM-2", _("Resolving conflicts in the school community")),
        ],
    },
    {
        "code": "digital",
        "name": _("Digital competencies"),
        "description": _("Using digital tools and educational platforms."),
        "competencies": [
            ("DIG-1", _("Using digital educational resources and platforms")),
            ("DIG-2", _("Digital safety and data protection")),
        ],
    },
    {
        "code": "inclusive",
        "name": _("Inclusive competencies"),
        "description": _("Teaching students with special educational needs."),
        "competencies": [
            ("INCL-1", _("Adapting programmes for students with disabilities")),
            ("INCL-2", _("Working with gifted students")),
        ],
    },
    {
        "code": "upbringing",
        "name": _("Upbringing competencies"),
        "description": _("Upbringing work and class tutorship."),
        "competencies": [
            ("UPBR-1", _("Planning and running upbringing work")),
            ("UPBR-2", _("Class tutorship")),
        ],
    },
]


def load_default_framework(competency_group_model, competency_model):
    """Create the default groups and competencies that are missing; keep edited ones."""
    created = 0
    for group_order, group_data in enumerate(DEFAULT_FRAMEWORK):
        group, group_created = competency_group_model.objects.get_or_create(
            code=group_data["code"],
            defaults={
                "name": str(group_data["name"]),
                "description": str(group_data["description"]),
                "sort_order": group_order,
            },
        )
        created += int(group_created)
        for order, (code, name) in enumerate(group_data["competencies"]):
            _obj, competency_created = competency_model.objects.get_or_create(
                code=code,
                defaults={"group": group, "name": str(name), "sort_order": order},
            )
            created += int(competency_created)
    return created
