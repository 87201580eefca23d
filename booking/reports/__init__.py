"""The coordinators' reports: utilisation and activity, as charts, tables and CSV."""
