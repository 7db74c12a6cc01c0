"""Tandem: a language server that splits coding work between a strong and a cheap model."""

__version__ = "0.1.0"
