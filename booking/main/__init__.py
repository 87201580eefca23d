"""Dashboard, language switch and health check."""
