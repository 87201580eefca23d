"""Equipment: machines and lines, their booking rules and local opening hours."""
