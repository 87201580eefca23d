"""Certifications (habilitations): types, grants, renewals, revocations,
trainers' requests and the expiry watch."""
