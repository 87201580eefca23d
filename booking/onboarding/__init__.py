"""The bulk onboarding pages: a template to download, a file to upload, its
preview, then the import (booking.services.onboarding)."""
