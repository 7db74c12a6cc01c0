"""Trials and the demo: one task run repeatedly per mode on fresh copies of a repository."""
