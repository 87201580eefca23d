"""Quota pages: « Mon utilisation », the coordinators' quotas and the shares report."""
