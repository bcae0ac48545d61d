"""Statement datasets: the row schema, the release registry, importers and builders."""
