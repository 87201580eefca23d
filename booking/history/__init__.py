"""The history pages of a booking, a machine and a project (audit entries)."""
