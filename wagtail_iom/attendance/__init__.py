"""Attendance: marks per session in the admin, attended events and participation certificates
in the cabinet.
"""
