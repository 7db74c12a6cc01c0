"""One code-unit extractor per language family, over a shared declaration walk (:mod:`.base`)."""
