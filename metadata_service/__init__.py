"""The metadata service: the collection registry and the clip records (the only code that runs SQL)."""
