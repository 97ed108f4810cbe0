"""The embedding service: decodes audio, resamples it, windows it and turns it into vectors with a model."""
