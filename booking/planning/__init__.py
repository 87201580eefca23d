"""« Quand puis-je ? »: the planning search page."""
