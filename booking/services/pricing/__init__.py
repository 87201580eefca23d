"""Price lists and billing profiles (issue 15): who sets them (access), what
a machine, a trainer hour, a consumable costs a public on a date (lookup)."""
