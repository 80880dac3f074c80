"""The resource map: event pages and their sessions, filters, the calendar and iCal feeds,
sign-ups with seat limits and waiting lists, publishing, e-mails about sign-ups, the API.
"""
