"""The teacher's cabinet: the overview, the list of sign-ups and the personal calendar feed. The
cabinet pages of other domains (profile, competencies, attendance, routes) live with them.
"""
