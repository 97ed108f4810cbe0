"""The `audiosearch` command line."""
