"""The certifications page: grant, renew, revoke, and trainers' requests."""
