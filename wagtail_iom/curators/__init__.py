"""The centre's staff: staff roles, curator assignments and municipal methodists' proposals."""
