"""The server runtime of every service: bootstrap, auth, metrics, logs, settings, the domain model and its rules."""
