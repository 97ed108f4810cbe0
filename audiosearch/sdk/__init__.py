"""What a client needs beside the stubs: errors, their status mapping, channels, client-side TLS and tokens.

Installed by `pip install audiosearch` without extras; imports nothing of the servers (an import-linter contract).
"""
