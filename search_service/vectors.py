"""What the search core and its vector store exchange: collection specs, clip vectors, segment hits."""

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from audiosearch.runtime import domain
from audiosearch.runtime.domain import ClipVectors  # what the gateway writes is what the store keeps
from audiosearch.runtime.rules import MAX_LABEL_BYTES, MAX_TAGS  # noqa: F401 - the schema's field sizes
from audiosearch.sdk import errors

# Milvus returns at most this many rows from one search or query (its topk / query window cap).
MAX_RESULT_WINDOW = 16384


@dataclasses.dataclass(frozen=True)
class CollectionSpec:
    dimension: int
    metric: str
    index_type: str


@dataclasses.dataclass(frozen=True)
class SegmentHit:
    """One matching window as the store reports it: the raw distance in the collection's metric."""

    clip_id: int
    distance: float
    start_seconds: float
    end_seconds: float


@dataclasses.dataclass(frozen=True)
class VectorCount:
    vectors: int
    clips: int


def collection_not_found(collection: str) -> errors.NotFound:
    return errors.NotFound(
        f"collection {collection!r} does not exist in the vector store; create it with EnsureCollection",
        "COLLECTION_NOT_FOUND",
    )


class VectorStore(Protocol):
    def describe(self, collection: str) -> CollectionSpec | None: ...
    def create(self, collection: str, spec: CollectionSpec) -> None: ...
    def drop(self, collection: str) -> bool: ...
    def switch(self, collection: str, target: str) -> bool: ...
    def upsert(self, collection: str, clips: Sequence[ClipVectors]) -> None: ...
    def delete(self, collection: str, clip_ids: Sequence[int]) -> None: ...
    def search(
        self,
        collection: str,
        spec: CollectionSpec,
        queries: Sequence[domain.Vector],
        limit: int,
        expression: str,
        search_breadth: int,
    ) -> list[list[SegmentHit]]: ...
    def count(self, collection: str) -> VectorCount: ...
    def segments(self, collection: str, clip_id: int) -> list[domain.Segment]: ...
    def clip_ids(self, collection: str) -> list[int]: ...
    def upsert_speakers(self, collection: str, spec: CollectionSpec, rows: Sequence[domain.SpeakerRow]) -> None: ...
    def delete_speakers(self, collection: str, speaker_ids: Sequence[str]) -> None: ...
    def drop_speakers(self, collection: str) -> None: ...
    def search_speakers(
        self, collection: str, spec: CollectionSpec, queries: Sequence[domain.Vector], limit: int
    ) -> list[list[domain.SpeakerHit]]: ...
    def get_speakers(self, collection: str, speaker_ids: Sequence[str]) -> list[domain.SpeakerRow]: ...
