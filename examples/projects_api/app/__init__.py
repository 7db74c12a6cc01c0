"""A small projects API used as Tandem's demo workspace."""
