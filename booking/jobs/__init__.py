"""The scheduler's jobs as coordinators and admins see them."""
