"""Fair sharing of pooled machines: quotas, and the travel times between
establishments that the trainer guard adds."""
