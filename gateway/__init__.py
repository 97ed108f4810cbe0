"""The public API: orchestrates the embedding, search and metadata services and keeps them consistent."""
