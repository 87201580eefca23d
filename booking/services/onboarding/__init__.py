"""Bulk onboarding: accounts, equipment and certifications read from a CSV or
XLSX file, previewed line by line, then written all at once or not at all
(docs/onboarding.md)."""
