"""Teachers' accounts on the site: sign-up with e-mail confirmation and consent, the throttled
sign-in, password reset.
"""
