"""Demo content of the sandbox institute, built in code and idempotently.

Each part is a function that may run any number of times and leaves the same data behind;
``manage.py load_demo_data`` calls them in order. Later parts (events, teachers, routes) add
their own functions here.
"""
