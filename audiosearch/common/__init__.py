"""Runtime shared by every service: errors, settings, domain types, server bootstrap, channels, logging."""
