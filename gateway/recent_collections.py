"""Collection records as recently read, for the calls that need an answer in milliseconds (IdentifySpeaker,
VerifySpeaker): one metadata round trip less per call.

A record changes by create, drop or calibration. Those made through this gateway forget the name at once; those made
through another replica show here within `ttl_seconds`, as the search service trusts a collection's spec for its own
TTL. A TTL of 0 reads every time.
"""

import threading
import time
from typing import Protocol

from audiosearch.runtime import domain


class CollectionReader(Protocol):
    def get_collection(self, name: str) -> domain.Collection: ...


class RecentCollections:
    def __init__(self, catalog: CollectionReader, ttl_seconds: float) -> None:
        self.catalog = catalog
        self.ttl_seconds = ttl_seconds
        self._read: dict[str, tuple[float, domain.Collection]] = {}
        self._lock = threading.Lock()
        # Counts forgets: a read that overlapped one must not keep what it saw (it may predate the change).
        self._forgets = 0

    def get(self, name: str) -> domain.Collection:
        """The record, read within the last ttl_seconds; NOT_FOUND from the catalog is never kept."""
        now = time.monotonic()
        kept = self._read.get(name)
        if kept is not None and now - kept[0] < self.ttl_seconds:
            return kept[1]
        forgets = self._forgets
        collection = self.catalog.get_collection(name)
        with self._lock:
            if self.ttl_seconds > 0 and forgets == self._forgets:
                self._read[name] = (now, collection)
        return collection

    def forget(self, name: str) -> None:
        with self._lock:
            self._forgets += 1
            self._read.pop(name, None)
