"""The Milvus adapter: the only module that imports pymilvus. Every Milvus failure leaves as a domain error."""

import collections
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from pathlib import Path
from typing import TypeVar

import grpc
from milvus_lite import MilvusLite, MilvusLiteError
from milvus_lite.adapter.grpc.servicer import MilvusServicer
from pymilvus import DataType, MilvusClient
from pymilvus.client import ts_utils
from pymilvus.client.prepare import Prepare
from pymilvus.client.types import Status
from pymilvus.client.utils import check_status
from pymilvus.exceptions import ErrorCode, MilvusException
from pymilvus.grpc_gen import milvus_pb2, milvus_pb2_grpc

from audiosearch.runtime import context, domain
from audiosearch.sdk import errors
from search_service.config import SearchSettings
from search_service.filters import string_literal
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

T = TypeVar("T")
# Milvus 2.3+ merr.ErrCollectionNotLoaded; Milvus Lite says it in words.
_COLLECTION_NOT_LOADED = 101

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
# How long a collection's spec is trusted without asking Milvus again. Describing costs three round trips, more than
# an HNSW search; a spec only changes by drop + create, which this process sees at once and other replicas within
# this time (a search that fails meanwhile forgets the spec).
_SPEC_TTL_SECONDS = 10.0
# How far back the stale-window lookup reads at Bounded consistency may miss writes: Milvus's gracefulTime (5 s by
# default) with a margin; this process remembers its own writes for this long (_RecentWrites).
_BOUNDED_STALENESS_SECONDS = 30.0


class MilvusVectorStore:
    """Our collection `name` is the Milvus collection prefix + name; rows are keyed "clip_id:segment"."""

    def __init__(
        self,
        client: MilvusClient,
        prefix: str,
        consistency_level: str,
        timeout_seconds: float,
        serialize_writes: bool = False,
        lite: "LiteEngine | None" = None,
    ) -> None:
        self.client = client
        self._lite = lite
        # For the search fast path: the database the client's calls name, and the gRPC metadata that names it.
        call_context = client._generate_call_context()
        self._db_name = call_context.get_db_name()
        self._call_metadata = call_context.to_grpc_metadata()
        self.prefix = prefix
        self.consistency_level = consistency_level
        self.timeout_seconds = timeout_seconds
        self._specs: dict[str, tuple[float, CollectionSpec]] = {}
        # Counts creates and drops: a describe that overlapped one must not cache what it saw, or a dropped
        # collection would still look present and a create of the same name would be skipped.
        self._schema_changes = 0
        self._schema_lock = threading.Lock()
        # Milvus Lite's engine is single-writer per collection: concurrent writes interleave in its write-ahead log,
        # and a restart then drops every row after the first torn record (acknowledged upserts lost). A server is
        # safe under concurrency, so it gets no lock.
        self._write_lock: contextlib.AbstractContextManager = (
            threading.RLock() if serialize_writes else contextlib.nullcontext()
        )
        self._recent_writes = _RecentWrites(_BOUNDED_STALENESS_SECONDS)
        # A speaker table is created by the first upsert of a speaker: two at once must not both create it.
        self._speaker_tables = threading.Lock()
        self._speaker_tables_seen: dict[str, float] = {}

    @classmethod
    def open(cls, settings: SearchSettings) -> "MilvusVectorStore":
        """Connect (a server URI) or open the Milvus Lite file, creating its folder; Unavailable if that fails."""
        uri = settings.milvus_uri
        lite = LiteEngine.start(uri, settings.max_message_bytes) if is_milvus_lite(uri) else None
        try:
            client = MilvusClient(
                uri=lite.uri if lite else uri,
                token=settings.milvus_token,
                user=settings.milvus_user,
                password=settings.milvus_password,
                db_name=settings.milvus_db,
                timeout=settings.milvus_timeout_seconds,
                # Its own channel, closed by close(): a shared one outlives the client (on Lite, the engine stops
                # under it and gRPC logs the GOAWAY).
                dedicated=True,
                **_tls_options(settings),
            )
        except MilvusException as error:
            if lite:
                lite.stop()
            raise _cannot_open(uri, error.message) from None
        return cls(
            client,
            settings.collection_prefix,
            settings.consistency_level,
            settings.milvus_timeout_seconds,
            serialize_writes=lite is not None,
            lite=lite,
        )

    def close(self) -> None:
        self.client.close()
        if self._lite:
            self._lite.stop()

    def describe(self, collection: str) -> CollectionSpec | None:
        cached = self._specs.get(collection)
        if cached is not None and time.monotonic() - cached[0] < _SPEC_TTL_SECONDS:
            return cached[1]
        changes = self._schema_changes
        spec = self._describe(collection)
        with self._schema_lock:
            if spec is not None and changes == self._schema_changes:
                self._specs[collection] = (time.monotonic(), spec)
        return spec

    @contextlib.contextmanager
    def _changing_schema(self, collection: str) -> Iterator[None]:
        try:
            yield
        finally:
            with self._schema_lock:
                self._schema_changes += 1
                self._specs.pop(collection, None)

    def _describe(self, collection: str) -> CollectionSpec | None:
        name = self._name(collection)
        with _milvus_errors(collection):
            if not self.client.has_collection(name, timeout=self._timeout()):
                return None
            fields = self.client.describe_collection(name, timeout=self._timeout())["fields"]
            index = self.client.describe_index(name, VECTOR, timeout=self._timeout())
            # After a restart (Milvus Lite reopened, or a server restarted) collections come back released, and
            # searches and queries fail until they are loaded again. Loading is idempotent and waits for a load in
            # progress, so a concurrent first call does not cache the spec of a collection still loading.
            if str(self.client.get_load_state(name, timeout=self._timeout()).get("state", "")) != "Loaded":
                self._load(name)
        vector = next((field for field in fields if field["name"] == VECTOR), None)
        if vector is None or not index:
            raise errors.FailedPrecondition(
                f"Milvus collection {name!r} exists but was not made by audiosearch (no indexed {VECTOR!r} field); "
                "drop it or change AUDIOSEARCH_SEARCH_COLLECTION_PREFIX",
                "FOREIGN_COLLECTION",
            )
        return CollectionSpec(int(vector["params"]["dim"]), index["metric_type"], index["index_type"])

    def _index_params(self, spec: CollectionSpec):
        index_params = self.client.prepare_index_params()
        index_params.add_index(
            field_name=VECTOR,
            index_type=spec.index_type,
            metric_type=spec.metric,
            params=_INDEX_PARAMS[spec.index_type],
        )
        return index_params

    def create(self, collection: str, spec: CollectionSpec) -> None:
        with self._changing_schema(collection), self._write_lock, _milvus_errors(collection):
            self._create_indexed(self._name(collection), _schema(spec.dimension), spec)

    def _create_indexed(self, name: str, schema, spec: CollectionSpec) -> None:
        """Create a Milvus collection with its index, loaded."""
        try:
            self.client.create_collection(
                name,
                schema=schema,
                index_params=self._index_params(spec),
                consistency_level=self.consistency_level,
                timeout=self._timeout(),
            )
        except MilvusException as error:
            # A busy server may answer the state of the index it has just accepted with "no index" (seen on the
            # local server 2.3.5 under a loaded CI run): pymilvus's wait then fails although both exist.
            if error.code != ErrorCode.INDEX_NOT_FOUND or not self.client.has_collection(name, timeout=self._timeout()):
                raise
            self._wait_for_index(name)
        # A server loads the new collection asynchronously; until it is loaded, searches and deletes by filter
        # fail with "collection not loaded". Loading again waits for it (a no-op on Milvus Lite).
        self.client.load_collection(name, timeout=self._timeout())

    def _wait_for_index(self, name: str) -> None:
        deadline = time.monotonic() + self._timeout()
        delay = 0.05
        while True:
            try:
                if self.client.describe_index(name, VECTOR, timeout=self._timeout()):
                    return
            except MilvusException as error:
                if error.code != ErrorCode.INDEX_NOT_FOUND:
                    raise
            if time.monotonic() + delay > deadline:
                raise errors.Unavailable(
                    f"the vector store (Milvus) has not made the index of {name!r} visible yet; retry",
                    "VECTOR_INDEX_NOT_READY",
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def drop(self, collection: str) -> bool:
        """Drop the collection's vectors: the Milvus collection, or the alias and the one it names (a rebuilt
        collection). A rebuild's vectors that a collection's name points at are refused (VECTORS_IN_USE)."""
        name = self._name(collection)
        with self._changing_schema(collection), self._write_lock, _milvus_errors(collection):
            if not self.client.has_collection(name, timeout=self._timeout()):
                return False
            real = self._real_name(name)
            if real != name:
                self.client.drop_alias(name, timeout=self._timeout())  # first: Milvus keeps a named collection
            elif self.client.list_aliases(name, timeout=self._timeout()).get("aliases"):
                raise errors.FailedPrecondition(
                    f"the vectors of {collection!r} are a collection's since its rebuild switched to them; drop that"
                    " collection instead",
                    "VECTORS_IN_USE",
                    collection=collection,
                )
            self.client.drop_collection(real, timeout=self._timeout())
        return True

    def switch(self, collection: str, target: str) -> bool:
        """Point `collection`'s name at `target`'s Milvus collection with an alias (one atomic alter once the name is
        an alias; a name made before rebuilds is dropped, then aliased), then drop the collection it named."""
        name, real_target = self._name(collection), self._name(target)
        with (
            self._changing_schema(collection),
            self._changing_schema(target),
            self._write_lock,
            _milvus_errors(target),
        ):
            if not self.client.has_collection(real_target, timeout=self._timeout()):
                raise collection_not_found(target)
            if not self.client.has_collection(name, timeout=self._timeout()):
                self.client.create_alias(real_target, name, timeout=self._timeout())
                self._read_writes_through(name, real_target)
                return True
            current = self._real_name(name)
            if current == real_target:
                return False
            if current == name:
                self.client.drop_collection(name, timeout=self._timeout())
                self.client.create_alias(real_target, name, timeout=self._timeout())
            else:
                self.client.alter_alias(real_target, name, timeout=self._timeout())
                self.client.drop_collection(current, timeout=self._timeout())
            self._read_writes_through(name, real_target)
        return True

    def _read_writes_through(self, name: str, real_target: str) -> None:
        """Session reads by `name` wait for this process's writes to `real_target` too (pymilvus keeps the last write's
        timestamp per name: without this, a search by the alias right after the switch may miss the last batch)."""
        endpoint = self.client._get_connection().server_address
        written = [ts_utils.get_collection_ts(each, endpoint, self._db_name) or 0 for each in (name, real_target)]
        if max(written):
            ts_utils.update_collection_ts(name, max(written), endpoint, self._db_name)

    def _real_name(self, name: str) -> str:
        """The Milvus collection `name` refers to: itself, or the one it is an alias of."""
        return self.client.describe_collection(name, timeout=self._timeout())["collection_name"]

    def upsert(self, collection: str, clips: Sequence[ClipVectors]) -> None:
        """Write every segment, then delete segments beyond each clip's new count (left from a longer version)."""
        rows = [row for clip in clips for row in _rows(clip)]
        batch = max(1, _FLOATS_PER_UPSERT // max(1, len(rows[0][VECTOR]))) if rows else 1
        name = self._name(collection)
        with self._forget_spec_on_error(collection), self._write_lock, _milvus_errors(collection):
            for start in range(0, len(rows), batch):
                self.client.upsert(name, rows[start : start + batch], timeout=self._timeout())
            stale = _stale_segments(self._shortened(name, clips))
            if stale:
                self._reloading(self.client.delete, name, filter=stale, timeout=self._timeout())
            self._recent_writes.add(name, clips)

    def _shortened(self, name: str, clips: Sequence[ClipVectors]) -> list[ClipVectors]:
        """The clips that had more segments before this upsert, so that only their stale rows are deleted by filter.

        A delete by filter is costly everywhere: Milvus Lite runs it as a query of every row (ingest slowed as the
        collection grew), a Milvus 2.3 server as a Strong query that waits a time tick (~200 ms per ingest). Segments
        are numbered from 0 without gaps (each upsert writes 0..n-1, then deletes from n), so a clip had more exactly
        when row "clip_id:n" exists: a key lookup, read at Bounded consistency (Session or Strong would wait a time
        tick too, for this process's own last write). What Bounded may not see yet, the last seconds of writes, this
        process remembers for its own; it cannot see a longer version another search-service replica wrote in those
        seconds: two versions of one clip written at once from two replicas, a race with no right answer anyway (the
        gateway writes a clip's vectors once, right after creating its record; a new id never had rows)."""
        rows = self._reloading(
            self.client.query,
            name,
            ids=[f"{clip.clip_id}:{len(clip.segments)}" for clip in clips],
            output_fields=["clip_id"],
            consistency_level="Bounded",
            timeout=self._timeout(),
        )
        longer = {int(row["clip_id"]) for row in rows} | self._recent_writes.longer(name, clips)
        return [clip for clip in clips if clip.clip_id in longer]

    def delete(self, collection: str, clip_ids: Sequence[int]) -> None:
        ids = ", ".join(str(int(clip_id)) for clip_id in clip_ids)
        name = self._name(collection)
        with self._write_lock, _milvus_errors(collection):
            self._reloading(self.client.delete, name, filter=f"clip_id in [{ids}]", timeout=self._timeout())

    def search(
        self,
        collection: str,
        spec: CollectionSpec,
        queries: Sequence[domain.Vector],
        limit: int,
        expression: str,
        search_breadth: int,
    ) -> list[list[SegmentHit]]:
        with self._forget_spec_on_error(collection), _milvus_errors(collection):
            return self._reloading(
                self._search_once,
                self._name(collection),
                data=list(queries),  # float32 arrays from the core, packed by pymilvus as they are
                limit=limit,
                expression=expression,
                params=_search_params(spec.index_type, search_breadth, limit),
            )

    def _search_once(
        self, name: str, data: list[domain.Vector], limit: int, expression: str, params: dict
    ) -> list[list[SegmentHit]]:
        """One Search RPC on the client's own connection, the request built by pymilvus as MilvusClient.search
        builds it (same encoding, same consistency timestamps, so this process still reads its own writes).

        Why not MilvusClient.search: on the hottest call it spends about 0.3 ms of Python per query (argument checks,
        three decorators, result objects), as much as the HNSW search itself at 650k vectors (bench/search). Its
        retries are not lost: callers retry UNAVAILABLE."""
        connection = self.client._get_connection()
        options = {"consistency_level": self.consistency_level}
        ts_utils.construct_guarantee_ts(name, options, connection.server_address, self._db_name)
        request = Prepare.search_requests_with_expr(
            collection_name=name,
            anns_field=VECTOR,
            param={"params": params},
            limit=limit,
            data=data,
            expr=expression,
            output_fields=_HIT_FIELDS,
            use_default_consistency=False,
            **options,
        )
        response = connection._stub.Search(request, timeout=self._timeout(), metadata=self._call_metadata)
        check_status(response.status)
        return _segment_hits(response.results, len(data))

    def count(self, collection: str) -> VectorCount:
        return VectorCount(self._count(collection, ""), self._count(collection, "segment == 0"))

    def segments(self, collection: str, clip_id: int) -> list[domain.Segment]:
        with _milvus_errors(collection):
            rows = self._reloading(
                self.client.query,
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

    def clip_ids(self, collection: str, low: int = -(2**63), high: int = 2**63 - 1) -> list[int]:
        """Every clip id with vectors in [low, high), ascending. Milvus queries have no order and a row cap, so a
        range that fills the cap is split in two and each half asked again."""
        bounds = ["segment == 0"]
        # No clause at the int64 limits: a Milvus 2.3 server parses -9223372036854775808 as minus an overflow.
        if low > -(2**63):
            bounds.append(f"clip_id >= {int(low)}")
        if high < 2**63 - 1:
            bounds.append(f"clip_id < {int(high)}")
        with _milvus_errors(collection):
            rows = self._reloading(
                self.client.query,
                self._name(collection),
                filter=" and ".join(bounds),
                output_fields=["clip_id"],
                limit=MAX_RESULT_WINDOW,
                # For reconcile, which must see its own deletes: under Session a Milvus 2.3 server can still list
                # rows a delete by filter removed (the crash test saw three, just after reconcile removed them).
                consistency_level="Strong",
                timeout=self._timeout(),
            )
        if len(rows) < MAX_RESULT_WINDOW or high - low <= 1:
            return sorted({int(row["clip_id"]) for row in rows})
        middle = low + (high - low) // 2
        return self.clip_ids(collection, low, middle) + self.clip_ids(collection, middle, high)

    def _count(self, collection: str, expression: str) -> int:
        with _milvus_errors(collection):
            rows = self._reloading(
                self.client.query,
                self._name(collection),
                filter=expression,
                output_fields=["count(*)"],
                # Counts are rare (stats) and a Milvus 2.3 server's count(*) can lag a delete under Session.
                consistency_level="Strong",
                timeout=self._timeout(),
            )
        return int(rows[0]["count(*)"])

    def _name(self, collection: str) -> str:
        return self.prefix + collection

    def _reloading(self, method: Callable[..., T], name: str, **options) -> T:
        """`method(name, **options)`; when Milvus says the collection is not loaded (the server or Lite file
        restarted since this process loaded it), load it and call once more."""
        try:
            return method(name, **options)
        except MilvusException as error:
            if not _not_loaded(error):
                raise
        log.info("milvus collection %s was released (a restart?); loading it again", name)
        self._load(name)
        return method(name, **options)

    def _load(self, name: str) -> None:
        """Load a collection; one still loading when the call's time runs out is a store not yet available."""
        try:
            with self._write_lock:
                self.client.load_collection(name, timeout=self._timeout())
        except MilvusException as error:
            if "timeout" not in (error.message or "").lower():
                raise
            raise errors.Unavailable(
                f"the vector store (Milvus) is still loading collection {name!r} (after a restart); retry shortly",
                "VECTOR_STORE_LOADING",
            ) from None

    def _forget_spec_on_error(self, collection: str) -> contextlib.AbstractContextManager[None]:
        return _forgetting_on_error(self._specs, collection)

    def _timeout(self) -> float:
        return context.timeout_for(self.timeout_seconds)

    # Speaker rows (speakers collections): a Milvus collection of their own beside the clip vectors, created with
    # the first row and dropped with the collection. Its name has an underscore after the prefix, which no collection
    # name can have (they start with a letter).

    def _speakers_name(self, collection: str) -> str:
        return f"{self.prefix}_speakers_{collection}"

    def upsert_speakers(self, collection: str, spec: CollectionSpec, rows: Sequence[domain.SpeakerRow]) -> None:
        name = self._speakers_name(collection)
        data = [
            {"id": row.speaker_id, "cohort_mean": row.cohort_mean, "cohort_std": row.cohort_std, VECTOR: row.vector}
            for row in rows
        ]
        with self._speaker_tables, self._write_lock, _milvus_errors(collection):
            if not self.client.has_collection(name, timeout=self._timeout()):
                self._create_indexed(name, _speakers_schema(spec.dimension), spec)
            self._reloading(self.client.upsert, name, data=data, timeout=self._timeout())

    def delete_speakers(self, collection: str, speaker_ids: Sequence[str]) -> None:
        with contextlib.suppress(errors.NotFound), self._write_lock, _milvus_errors(collection):
            self._reloading(
                self.client.delete,
                self._speakers_name(collection),
                filter=f"id in [{', '.join(map(string_literal, speaker_ids))}]",
                timeout=self._timeout(),
            )

    def _has_speakers(self, collection: str) -> bool:
        """Whether the speaker table exists: asked once, then trusted as the spec is (a missing table would make
        every identification of an empty collection log pymilvus's error)."""
        seen = self._speaker_tables_seen.get(collection)
        if seen is not None and time.monotonic() - seen < _SPEC_TTL_SECONDS:
            return True
        with _milvus_errors(collection):
            exists = self.client.has_collection(self._speakers_name(collection), timeout=self._timeout())
        if exists:
            self._speaker_tables_seen[collection] = time.monotonic()
        return exists

    def _forget_speakers_on_error(self, collection: str) -> contextlib.AbstractContextManager[None]:
        return _forgetting_on_error(self._speaker_tables_seen, collection)

    def drop_speakers(self, collection: str) -> None:
        name = self._speakers_name(collection)
        self._speaker_tables_seen.pop(collection, None)
        with self._speaker_tables, self._write_lock, _milvus_errors(collection):
            if self.client.has_collection(name, timeout=self._timeout()):
                self.client.drop_collection(name, timeout=self._timeout())

    def search_speakers(
        self, collection: str, spec: CollectionSpec, queries: Sequence[domain.Vector], limit: int
    ) -> list[list[domain.SpeakerHit]]:
        """No rows yet (no speaker enrolled): no hits."""
        if not self._has_speakers(collection):
            return [[] for _ in queries]
        try:
            with self._forget_speakers_on_error(collection), _milvus_errors(collection):
                results = self._reloading(
                    self.client.search,
                    self._speakers_name(collection),
                    data=list(queries),
                    limit=limit,
                    anns_field=VECTOR,
                    search_params={"params": _search_params(spec.index_type, max(64, 2 * limit), limit)},
                    output_fields=["cohort_mean", "cohort_std"],
                    consistency_level=self.consistency_level,
                    timeout=self._timeout(),
                )
        except errors.NotFound:
            return [[] for _ in queries]
        sign = -1.0 if spec.metric == "L2" else 1.0
        return [
            [
                domain.SpeakerHit(
                    hit["id"], sign * hit["distance"], hit["entity"]["cohort_mean"], hit["entity"]["cohort_std"]
                )
                for hit in hits
            ]
            for hits in results
        ]

    def get_speakers(self, collection: str, speaker_ids: Sequence[str]) -> list[domain.SpeakerRow]:
        if not self._has_speakers(collection):
            return []
        try:
            with self._forget_speakers_on_error(collection), _milvus_errors(collection):
                rows = self._reloading(
                    self.client.query,
                    self._speakers_name(collection),
                    filter=f"id in [{', '.join(map(string_literal, speaker_ids))}]",
                    output_fields=["cohort_mean", "cohort_std", VECTOR],
                    consistency_level=self.consistency_level,
                    timeout=self._timeout(),
                )
        except errors.NotFound:
            return []
        return [
            domain.SpeakerRow(row["id"], [float(v) for v in row[VECTOR]], row["cohort_mean"], row["cohort_std"])
            for row in rows
        ]


@contextlib.contextmanager
def _forgetting_on_error(cache: dict, collection: str) -> Iterator[None]:
    """A failure may mean the cached answer about `collection` is stale: forget it, and let the error out."""
    try:
        yield
    except errors.AudioSearchError:
        cache.pop(collection, None)
        raise


class _RecentWrites:
    """How many segments this process wrote for each clip in the last `seconds`, oldest first."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._counts: collections.OrderedDict[tuple[str, int], tuple[float, int]] = collections.OrderedDict()

    def add(self, name: str, clips: Sequence[ClipVectors]) -> None:
        now = time.monotonic()
        with self._lock:
            for clip in clips:
                self._counts[(name, clip.clip_id)] = (now, len(clip.segments))
                self._counts.move_to_end((name, clip.clip_id))
            while self._counts and now - next(iter(self._counts.values()))[0] > self._seconds:
                self._counts.popitem(last=False)

    def longer(self, name: str, clips: Sequence[ClipVectors]) -> set[int]:
        """The clips among `clips` this process recently wrote with more segments than they have now."""
        with self._lock:
            return {
                clip.clip_id
                for clip in clips
                if self._counts.get((name, clip.clip_id), (0.0, 0))[1] > len(clip.segments)
            }


def is_milvus_lite(uri: str) -> bool:
    """A local .db path opens Milvus Lite in this process; a URL names a server."""
    return not uri.startswith(_SERVER_SCHEMES)


class LiteEngine:
    """Milvus Lite served inside this process on a unix socket that only this OS user can open.

    pymilvus would start it on a 127.0.0.1 TCP port with no auth, around the service's tokens: any local process
    could list, read and delete vectors. A socket file 0600 in a fresh 0700 folder, and a 0700 .db folder, leave only
    this OS user able to reach the vectors; no TCP port is opened."""

    def __init__(self, database: MilvusLite, server: grpc.Server, folder: str) -> None:
        self._database, self._server, self._folder = database, server, folder
        self.uri = "unix:" + os.path.join(folder, "milvus.sock")

    @classmethod
    def start(cls, path: str, max_message_bytes: int) -> "LiteEngine":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # The .db path is Lite's folder of vector files: owner-only, like its socket.
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chmod(path, 0o700)
            database = MilvusLite(os.path.abspath(path))
        except OSError as error:
            raise _cannot_open(path, error.strerror or str(error)) from None
        except MilvusLiteError as error:
            raise _cannot_open(path, str(error)) from None
        try:
            folder = _socket_folder(os.path.abspath(path))
        except OSError as error:
            database.close()
            raise _cannot_open(path, error.strerror or str(error)) from None
        server = grpc.server(
            # Writes are serialised by the store; these threads mostly serve concurrent searches.
            futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="milvus-lite"),
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        milvus_pb2_grpc.add_MilvusServiceServicer_to_server(_LiteServicer(database), server)
        engine = cls(database, server, folder)
        try:
            # Left by a process that was killed: the engine's LOCK, now ours, says nobody serves on it.
            Path(engine.uri.removeprefix("unix:")).unlink(missing_ok=True)
            server.add_insecure_port(engine.uri)
            os.chmod(engine.uri.removeprefix("unix:"), 0o600)
            server.start()
        except BaseException:
            engine.stop()
            raise
        return engine

    def stop(self) -> None:
        self._server.stop(grace=None)
        self._database.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _socket_folder(data_path: str) -> str:
    """An owner-only folder for the engine's socket, one per .db path (a killed process leaves no new one behind).
    Under the temp folder, as a socket path must stay under 108 bytes; a folder there that is not ours and 0700
    (someone else made it, or a link) is refused, not used."""
    digest = hashlib.sha256(data_path.encode()).hexdigest()[:16]
    folder = os.path.join(tempfile.gettempdir(), f"audiosearch-milvus-{os.getuid()}-{digest}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) != 0o700:
        raise PermissionError(errno.EPERM, f"{folder} is not a folder of this user with mode 0700; remove it")
    return folder


class _LiteServicer(MilvusServicer):
    def AllocTimestamp(self, request, context):  # noqa: N802 (the gRPC method's name)
        # pymilvus asks for one while waiting on a new index and treats UNIMPLEMENTED as "no timestamp": an expected
        # answer, so it is given as a status, not raised (which gRPC logs as an application error with a traceback).
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Milvus Lite allocates no timestamps")
        return milvus_pb2.AllocTimestampResponse()


def _cannot_open(uri: str, reason: str) -> errors.Unavailable:
    return errors.Unavailable(
        f"cannot open Milvus at {uri!r}: {reason}. Check AUDIOSEARCH_SEARCH_MILVUS_URI (a .db file path, which only "
        "one process may open, or http://host:19530 of a running server)",
        "VECTOR_STORE_UNAVAILABLE",
    )


def _tls_options(settings: SearchSettings) -> dict:
    """pymilvus's TLS keywords: one-way TLS trusts `server_pem_path`; mutual TLS takes the CA and a client pair."""
    options: dict = {}
    if settings.milvus_client_pem_path or settings.milvus_client_key_path:
        if not (settings.milvus_client_pem_path and settings.milvus_client_key_path and settings.milvus_ca_pem_path):
            raise errors.InvalidArgument(
                "mutual TLS to Milvus needs AUDIOSEARCH_SEARCH_MILVUS_CLIENT_PEM_PATH, _CLIENT_KEY_PATH and "
                "_CA_PEM_PATH all set",
                "INVALID_MILVUS_TLS",
            )
        options.update(
            secure=True,
            ca_pem_path=settings.milvus_ca_pem_path,
            client_pem_path=settings.milvus_client_pem_path,
            client_key_path=settings.milvus_client_key_path,
        )
    elif settings.milvus_ca_pem_path:
        options.update(secure=True, server_pem_path=settings.milvus_ca_pem_path)
    if settings.milvus_server_name:
        options.update(secure=True, server_name=settings.milvus_server_name)
    return options


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


def _speakers_schema(dimension: int):
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_LABEL_BYTES)
    schema.add_field("cohort_mean", DataType.DOUBLE)
    schema.add_field("cohort_std", DataType.DOUBLE)
    schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _stale_segments(clips: Sequence[ClipVectors]) -> str:
    """Filter of the segments beyond each clip's count (left from a longer version); empty for no clips."""
    by_count: dict[int, list[str]] = {}
    for clip in clips:
        by_count.setdefault(len(clip.segments), []).append(str(int(clip.clip_id)))
    # One clause per segment count, not per clip: a batch of 2000 one-vector clips stays one short expression.
    return " or ".join(f"(segment >= {count} and clip_id in [{', '.join(ids)}])" for count, ids in by_count.items())


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
            VECTOR: segment.vector,  # the core's checked float32 array: pymilvus reads it without another copy here
        }


def _segment_hits(results, queries: int) -> list[list[SegmentHit]]:
    """Hits per query from Milvus's SearchResultData: flat arrays, query i owning the next topks[i] entries (with
    no hit at all, Milvus may send neither counts nor fields)."""
    counts = list(results.topks)
    if not any(counts):
        return [[] for _ in range(queries)]
    fields = {field.field_name: field.scalars for field in results.fields_data}
    clip_ids = fields["clip_id"].long_data.data
    starts, ends = fields["start_s"].double_data.data, fields["end_s"].double_data.data
    scores = results.scores
    hits, offset = [], 0
    for count in counts:
        hits.append([SegmentHit(clip_ids[i], scores[i], starts[i], ends[i]) for i in range(offset, offset + count)])
        offset += count
    return hits


def _search_params(index_type: str, breadth: int, limit: int) -> dict:
    if index_type == "HNSW":
        return {"ef": max(breadth, limit)}  # HNSW refuses ef below the number of hits asked for
    if index_type.startswith("IVF"):
        return {"nprobe": min(breadth, _INDEX_PARAMS[index_type]["nlist"])}
    return {}


def _not_loaded(error: MilvusException) -> bool:
    return error.code == _COLLECTION_NOT_LOADED or "not loaded" in (error.message or "").lower()


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
