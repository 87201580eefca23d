"""Check-in at the machine (issue 14): the trainer checks a booking in and out,
reports a problem on the machine; its coordinators act on the incident."""
