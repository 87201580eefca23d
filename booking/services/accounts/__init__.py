"""Accounts: who may sign in, their passwords, sessions and API tokens, and the
campus directory (establishments, companies)."""
