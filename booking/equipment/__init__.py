"""Equipment pages: the catalogue and each machine with its week calendar."""
