"""The `audiosearch` command line."""

import os

# The gateway the commands call unless --address says otherwise (main and eval both read it).
DEFAULT_ADDRESS = os.environ.get("AUDIOSEARCH_ADDRESS", "localhost:50051")
