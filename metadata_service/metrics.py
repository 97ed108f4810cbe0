"""Metadata metrics: clips per collection and state, read from the store at each scrape."""

import logging

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

PAGE = 500
log = logging.getLogger("audiosearch.metadata.metrics")


class ClipCountCollector:
    """`audiosearch_clips{collection, state}`: counted by the database when Prometheus scrapes, never cached."""

    def __init__(self, store) -> None:
        self.store = store

    def collect(self):
        family = GaugeMetricFamily(
            "audiosearch_clips", "Clips per collection and state", labels=["collection", "state"]
        )
        after = ""
        try:
            while True:
                collections = self.store.list_collections(after, PAGE)
                for collection in collections:
                    for state, count in self.store.count_clips(collection.name).items():
                        family.add_metric([collection.name, state.value], count)
                if len(collections) < PAGE:
                    break
                after = collections[-1].name
        except Exception:  # noqa: BLE001 - a database hiccup must not fail the scrape of every other metric
            log.warning("could not count clips for metrics", exc_info=True)
        yield family


def register_clip_counts(store) -> ClipCountCollector:
    collector = ClipCountCollector(store)
    REGISTRY.register(collector)
    return collector
