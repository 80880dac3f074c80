"""Diagnostics results with scores per competency, and the teacher's competency profile."""
