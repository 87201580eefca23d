"""Planning: when a machine and a trainer certified for it are both free
(« Quand puis-je ? »)."""
