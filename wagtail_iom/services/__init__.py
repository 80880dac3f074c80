"""The domain logic as plain functions; views, tasks and admin hooks call these."""
