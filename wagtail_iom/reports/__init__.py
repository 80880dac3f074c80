"""The centre's reports: counts of routes by place and status, for the admin and the command
line. Nothing in the package imports this domain but the root wiring."""
