"""Reports: utilisation against open hours, activity, and their CSV."""
