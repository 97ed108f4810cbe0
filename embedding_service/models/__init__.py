"""Embedding models behind one interface (base.EmbeddingModel), held by name in a registry."""
