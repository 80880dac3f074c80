"""Teachers: the consent to personal-data processing, the profile (section 1 of the route) and
the professional request, edited in the cabinet and in the admin.
"""
