"""Messages: e-mails queued in the outbox with the change they report,
reminders and digests."""
