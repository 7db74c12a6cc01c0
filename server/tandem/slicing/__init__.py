"""Context slicing: the touched code units plus their related tests, parsed with tree-sitter."""
