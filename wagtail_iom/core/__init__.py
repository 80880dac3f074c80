"""The public core every domain builds on: who may see what (access), e-mail, the site's URL
and name, uploads and tabular files, text, timezones and validators. It imports no domain.
"""
