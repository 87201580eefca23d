"""Calendar feeds served to calendar apps, without a session."""
