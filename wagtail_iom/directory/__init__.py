"""Reference data: municipalities, schools and the competency framework, with their admin
screens and the bulk import.
"""
