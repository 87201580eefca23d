"""The coordinators' calendar import: closures from an .ics file."""
