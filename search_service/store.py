"""The Milvus adapter: the only module that imports pymilvus. Every Milvus failure leaves as a domain error."""

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import grpc
from pymilvus import DataType, MilvusClient
from pymilvus.client.types import Status
from pymilvus.exceptions import ErrorCode, MilvusException

from audiosearch.common import context, domain, errors
from search_service.config import SearchSettings
from search_service.vectors import (
    MAX_LABEL_BYTES,
    MAX_RESULT_WINDOW,
    MAX_TAGS,
    ClipVectors,
    CollectionSpec,
    SegmentHit,
    VectorCount,
    collection_not_found,
)

log = logging.getLogger("audiosearch.search.store")

VECTOR = "vector"
_INDEX_PARAMS = {
    "HNSW": {"M": 16, "efConstruction": 200},
    "IVF_FLAT": {"nlist": 1024},
    "IVF_SQ8": {"nlist": 1024},
    "FLAT": {},
}
_HIT_FIELDS = ["clip_id", "start_s", "end_s"]
# Rows per upsert call: about 16 MiB of floats, well under Milvus's 64 MiB request limit.
_FLOATS_PER_UPSERT = 4 * 1024 * 1024
_SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")


class MilvusVectorStore:
    """Our collection `name` is the Milvus collection prefix + name; rows are keyed "clip_id:segment"."""

    def __init__(self, client: MilvusClient, prefix: str, consistency_level: str, timeout_seconds: float) -> None:
        self.client = client
        self.prefix = prefix
        self.consistency_level = consistency_level
        self.timeout_seconds = timeout_seconds

    @classmethod
    def open(cls, settings: SearchSettings) -> "MilvusVectorStore":
        """Connect (a server URI) or open the Milvus Lite file, creating its folder; Unavailable if that fails."""
        uri = settings.milvus_uri
        if not uri.startswith(_SERVER_SCHEMES):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            client = MilvusClient(
                uri=uri,
                token=settings.milvus_token,
                db_name=settings.milvus_db,
                timeout=settings.milvus_timeout_seconds,
            )
        except MilvusException as error:
            raise errors.Unavailable(
                f"cannot open Milvus at {uri!r}: {error.message}. Check AUDIOSEARCH_SEARCH_MILVUS_URI (a .db file "
                "path, which only one process may open, or http://host:19530 of a running server)",
                "VECTOR_STORE_UNAVAILABLE",
            ) from None
        return cls(client, settings.collection_prefix, settings.consistency_level, settings.milvus_timeout_seconds)

    def close(self) -> None:
        self.client.close()

    def describe(self, collection: str) -> CollectionSpec | None:
        name = self._name(collection)
        with _milvus_errors(collection):
            if not self.client.has_collection(name, timeout=self._timeout()):
                return None
            fields = self.client.describe_collection(name, timeout=self._timeout())["fields"]
            index = self.client.describe_index(name, VECTOR, timeout=self._timeout())
        vector = next((field for field in fields if field["name"] == VECTOR), None)
        if vector is None or not index:
            raise errors.FailedPrecondition(
                f"Milvus collection {name!r} exists but was not made by audiosearch (no indexed {VECTOR!r} field); "
                "drop it or change AUDIOSEARCH_SEARCH_COLLECTION_PREFIX",
                "FOREIGN_COLLECTION",
            )
        return CollectionSpec(int(vector["params"]["dim"]), index["metric_type"], index["index_type"])

    def create(self, collection: str, spec: CollectionSpec) -> None:
        index_params = self.client.prepare_index_params()
        index_params.add_index(
            field_name=VECTOR,
            index_type=spec.index_type,
            metric_type=spec.metric,
            params=_INDEX_PARAMS[spec.index_type],
        )
        with _milvus_errors(collection):
            self.client.create_collection(
                self._name(collection),
                schema=_schema(spec.dimension),
                index_params=index_params,
                consistency_level=self.consistency_level,
                timeout=self._timeout(),
            )

    def drop(self, collection: str) -> bool:
        name = self._name(collection)
        with _milvus_errors(collection):
            if not self.client.has_collection(name, timeout=self._timeout()):
                return False
            self.client.drop_collection(name, timeout=self._timeout())
        return True

    def upsert(self, collection: str, clips: Sequence[ClipVectors]) -> None:
        """Write every segment, then delete segments beyond each clip's new count (left from a longer version)."""
        rows = [row for clip in clips for row in _rows(clip)]
        batch = max(1, _FLOATS_PER_UPSERT // max(1, len(rows[0][VECTOR]))) if rows else 1
        stale = " or ".join(f"(clip_id == {int(clip.clip_id)} and segment >= {len(clip.segments)})" for clip in clips)
        name = self._name(collection)
        with _milvus_errors(collection):
            for start in range(0, len(rows), batch):
                self.client.upsert(name, rows[start : start + batch], timeout=self._timeout())
            if stale:
                self.client.delete(name, filter=stale, timeout=self._timeout())

    def delete(self, collection: str, clip_ids: Sequence[int]) -> None:
        ids = ", ".join(str(int(clip_id)) for clip_id in clip_ids)
        with _milvus_errors(collection):
            self.client.delete(self._name(collection), filter=f"clip_id in [{ids}]", timeout=self._timeout())

    def search(
        self,
        collection: str,
        spec: CollectionSpec,
        queries: Sequence[Sequence[float]],
        limit: int,
        expression: str,
        breadth: int,
    ) -> list[list[SegmentHit]]:
        with _milvus_errors(collection):
            results = self.client.search(
                self._name(collection),
                data=[list(query) for query in queries],
                anns_field=VECTOR,
                limit=limit,
                filter=expression,
                output_fields=_HIT_FIELDS,
                search_params={"params": _search_params(spec.index_type, breadth, limit)},
                consistency_level=self.consistency_level,
                timeout=self._timeout(),
            )
        return [
            [
                SegmentHit(
                    int(hit["entity"]["clip_id"]),
                    float(hit["distance"]),
                    hit["entity"]["start_s"],
                    hit["entity"]["end_s"],
                )
                for hit in result
            ]
            for result in results
        ]

    def count(self, collection: str) -> VectorCount:
        return VectorCount(self._count(collection, ""), self._count(collection, "segment == 0"))

    def segments(self, collection: str, clip_id: int) -> list[domain.Segment]:
        with _milvus_errors(collection):
            rows = self.client.query(
                self._name(collection),
                filter=f"clip_id == {int(clip_id)}",
                output_fields=["segment", "start_s", "end_s", VECTOR],
                limit=MAX_RESULT_WINDOW,
                consistency_level=self.consistency_level,
                timeout=self._timeout(),
            )
        return [
            domain.Segment([float(value) for value in row[VECTOR]], row["start_s"], row["end_s"])
            for row in sorted(rows, key=lambda row: row["segment"])
        ]

    def _count(self, collection: str, expression: str) -> int:
        with _milvus_errors(collection):
            rows = self.client.query(
                self._name(collection),
                filter=expression,
                output_fields=["count(*)"],
                consistency_level=self.consistency_level,
                timeout=self._timeout(),
            )
        return int(rows[0]["count(*)"])

    def _name(self, collection: str) -> str:
        return self.prefix + collection

    def _timeout(self) -> float:
        return context.timeout_for(self.timeout_seconds)


def _schema(dimension: int):
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("clip_id", DataType.INT64)
    schema.add_field("segment", DataType.INT32)
    # Times as DOUBLE: float32 would turn 0.1 s into 0.10000000149 and make duration filters miss at the boundary.
    schema.add_field("start_s", DataType.DOUBLE)
    schema.add_field("end_s", DataType.DOUBLE)
    schema.add_field("duration_s", DataType.DOUBLE)
    schema.add_field("speaker", DataType.VARCHAR, max_length=MAX_LABEL_BYTES)
    schema.add_field("sound_class", DataType.VARCHAR, max_length=MAX_LABEL_BYTES)
    schema.add_field(
        "tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TAGS, max_length=MAX_LABEL_BYTES
    )
    schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _rows(clip: ClipVectors) -> Iterator[dict]:
    for index, segment in enumerate(clip.segments):
        yield {
            "id": f"{clip.clip_id}:{index}",
            "clip_id": clip.clip_id,
            "segment": index,
            "start_s": segment.start_seconds,
            "end_s": segment.end_seconds,
            "duration_s": clip.duration_seconds,
            "speaker": clip.labels.speaker,
            "sound_class": clip.labels.sound_class,
            "tags": list(clip.labels.tags),
            VECTOR: list(segment.vector),
        }


def _search_params(index_type: str, breadth: int, limit: int) -> dict:
    if index_type == "HNSW":
        return {"ef": max(breadth, limit)}  # HNSW refuses ef below the number of hits asked for
    if index_type.startswith("IVF"):
        return {"nprobe": min(breadth, _INDEX_PARAMS[index_type]["nlist"])}
    return {}


@contextlib.contextmanager
def _milvus_errors(collection: str) -> Iterator[None]:
    """Map what pymilvus raises (its own exceptions, or gRPC errors it lets through) to domain errors."""
    try:
        yield
    except MilvusException as error:
        raise _domain_error(error.code, error.message, collection) from None
    except grpc.RpcError as error:
        raise _domain_error(error.code(), error.details() or str(error), collection) from None


def _domain_error(code, message: str, collection: str) -> errors.AudioSearchError:
    if code == ErrorCode.COLLECTION_NOT_FOUND:
        return collection_not_found(collection)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.DeadlineExceeded(
            f"the vector store (Milvus) did not answer in time: {message}", "VECTOR_STORE_TIMEOUT"
        )
    if code in (Status.CONNECT_FAILED, grpc.StatusCode.UNAVAILABLE):
        log.warning("milvus unreachable: %s", message)
        return errors.Unavailable(
            f"the vector store (Milvus) is unreachable: {message}; retry, and check that Milvus is running",
            "VECTOR_STORE_UNAVAILABLE",
        )
    return errors.Internal(
        f"the vector store (Milvus) failed on collection {collection!r}: {message}", "VECTOR_STORE_FAILED"
    )
