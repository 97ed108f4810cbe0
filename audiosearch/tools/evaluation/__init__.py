"""Retrieval quality of a model or collection, measured through the running services (`audiosearch eval`)."""
