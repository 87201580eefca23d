"""A machine's documents and photos: the list, the upload, the download."""
