"""A user's own account pages: integration tokens and preferences."""
