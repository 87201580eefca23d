"""The waiting list of taken slots: joining, offers when a slot frees, claims."""
