"""Models: the alias registry (with the paper's fixed layers) and safe loading from the Hub, a folder or a package."""
