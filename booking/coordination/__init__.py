"""Coordinator pages: the approval queue, closures, the establishment's equipment."""
