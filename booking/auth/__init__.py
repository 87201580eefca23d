"""Login, logout and password changes."""
