"""The LSP face of Tandem: thin pygls handlers over the core. Only this package imports pygls."""
