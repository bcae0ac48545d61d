"""Hidden-state extraction and the on-disk activation store."""
