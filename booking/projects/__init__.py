"""Industrial teaching projects: companies request them, coordinators decide."""
