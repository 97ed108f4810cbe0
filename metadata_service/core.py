"""Metadata domain logic: validation, dedupe and pagination over the store. No gRPC here."""

import base64
import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Protocol

from audiosearch.runtime import domain, rules
from audiosearch.sdk.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, require
from metadata_service.blobs import BlobStore
from metadata_service.clip_audio import ClipAudio, clip_not_found

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_DIMENSION = 32768
MAX_MODEL_CHARS = 128
MAX_SOURCE_CHARS = 1024
MAX_AUDIO_FORMAT_CHARS = 32
MAX_REQUEST_ID_CHARS = 128
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BATCH_IDS = 1000
MAX_CLIP_ID = 2**63 - 1
MAX_SCORING_CHARS = 64


class RecordStore(Protocol):
    """What the core needs of a database (metadata_service/store.py): None or False where a row is missing."""

    def insert_collection(self, collection: domain.Collection) -> domain.Collection | None: ...
    def get_collection(self, name: str) -> domain.Collection | None: ...
    def list_collections(self, after_name: str, limit: int) -> list[domain.Collection]: ...
    def delete_collection(self, name: str) -> int | None: ...
    def insert_clip(self, clip: domain.Clip, request_id: str) -> domain.Clip | None: ...
    def get_clips(self, ids: Sequence[int]) -> dict[int, domain.Clip]: ...
    def find_clip_by_content(self, collection: str, content_sha256: str) -> domain.Clip | None: ...
    def find_clip_by_request(self, collection: str, request_id: str) -> domain.Clip | None: ...
    def list_clips(
        self,
        collection: str,
        after_id: int,
        limit: int,
        search_filter: domain.SearchFilter,
        state: domain.ClipState | None,
    ) -> list[domain.Clip]: ...
    def update_clip(
        self, clip_id: int, state: domain.ClipState, audio: domain.AudioInfo | None, segment_count: int | None
    ) -> domain.Clip | None: ...
    def delete_clip(self, clip_id: int) -> bool: ...
    def count_clips(self, collection: str) -> dict[domain.ClipState, int]: ...
    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection | None: ...
    def mark_audio_kept(self, clip_ids: Sequence[int]) -> dict[int, domain.Clip]: ...
    def kept_audio_hashes(self, collection: str) -> list[str]: ...
    def referenced_hashes(self, hashes: Sequence[str]) -> set[str]: ...


class MetadataCore:
    """The collection registry and clip records: the source of truth for what exists and in which state; and the
    clips' kept audio (`audio`), whose blobs go with the last clip that references them."""

    def __init__(self, store: RecordStore, blobs: BlobStore) -> None:
        self.store = store
        self.audio = ClipAudio(store, blobs)

    # --- collections

    def create_collection(self, collection: domain.Collection) -> domain.Collection:
        """Register a collection; ALREADY_EXISTS if the name is taken."""
        stored = self.store.insert_collection(_valid_collection(collection))
        if stored is None:
            raise AlreadyExists(
                f"collection {collection.name!r} already exists; choose another name, or delete it first",
                "COLLECTION_EXISTS",
                collection=collection.name,
            )
        return stored

    def get_collection(self, name: str) -> domain.Collection:
        """The collection of that name; NOT_FOUND if there is none."""
        rules.check_collection_name(name)
        collection = self.store.get_collection(name)
        if collection is None:
            raise NotFound(
                f"collection {name!r} does not exist; create it first, or list collections to see their names",
                "COLLECTION_NOT_FOUND",
                collection=name,
            )
        return collection

    def list_collections(self, page_size: int = 0, page_token: str = "") -> tuple[list[domain.Collection], str]:
        """One page of collections ordered by name, and the token of the next page ('' after the last)."""
        size = _page_size(page_size)
        collections = self.store.list_collections(_page_after("collection", page_token), size + 1)
        more = len(collections) > size
        collections = collections[:size]
        return collections, _page_token("collection", collections[-1].name) if more else ""

    def delete_collection(self, name: str) -> int:
        """Delete the collection and all its clip records, then the kept audio no other clip references; returns how
        many clips were deleted."""
        rules.check_collection_name(name)
        kept = self.store.kept_audio_hashes(name)
        deleted = self.store.delete_collection(name)
        if deleted is None:
            raise NotFound(
                f"collection {name!r} does not exist; nothing was deleted", "COLLECTION_NOT_FOUND", collection=name
            )
        self.audio.release(kept)
        return deleted

    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection:
        """Store the collection's calibration (None removes it); the collection, NOT_FOUND if there is none."""
        rules.check_collection_name(name)
        if calibration is not None:
            _check_calibration(calibration)
        stored = self.store.set_calibration(name, calibration)
        if stored is None:
            raise NotFound(
                f"collection {name!r} does not exist; nothing was calibrated", "COLLECTION_NOT_FOUND", collection=name
            )
        return stored

    # --- clips

    def create_clip(self, clip: domain.Clip, request_id: str = "") -> tuple[domain.Clip, bool]:
        """Create a PENDING clip and assign its id, or return the clip already stored with the same content or the
        same request_id in the collection. The bool is True when this call created it."""
        clip = _valid_clip(clip)
        _valid_request_id(request_id)
        existing = self._existing_clip(clip, request_id)
        if existing is not None:
            return existing, False
        created = self.store.insert_clip(clip, request_id)
        if created is not None:
            return created, True
        # The unique keys refused it: a concurrent identical request won, or the collection does not exist.
        existing = self._existing_clip(clip, request_id)
        if existing is not None:
            return existing, False
        self.get_collection(clip.collection)
        raise Aborted(
            f"clip {clip.content_sha256} in {clip.collection!r} conflicted with a clip deleted at the same time;"
            " retry the request",
            "CLIP_CONFLICT",
        )

    def _existing_clip(self, clip: domain.Clip, request_id: str) -> domain.Clip | None:
        if request_id:
            by_request = self.store.find_clip_by_request(clip.collection, request_id)
            if by_request is not None:
                if by_request.content_sha256 != clip.content_sha256:
                    raise FailedPrecondition(
                        f"request_id {request_id!r} was used for other audio (clip {by_request.id}) in collection "
                        f"{clip.collection!r}; use a new request_id for each different upload",
                        "REQUEST_ID_REUSED",
                        collection=clip.collection,
                    )
                return by_request
        return self.store.find_clip_by_content(clip.collection, clip.content_sha256)

    def get_clip(self, clip_id: int) -> domain.Clip:
        """The clip with that id; NOT_FOUND if there is none."""
        clip = self.store.get_clips([clip_id]).get(clip_id)
        if clip is None:
            raise clip_not_found(clip_id)
        return clip

    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]:
        """The clips with those ids, in the order asked; ids with no clip are left out."""
        require(
            len(clip_ids) <= MAX_BATCH_IDS,
            f"{len(clip_ids)} ids asked for; ask for at most {MAX_BATCH_IDS} per call",
        )
        found = self.store.get_clips(clip_ids)
        return [found[clip_id] for clip_id in clip_ids if clip_id in found]

    def list_clips(
        self,
        collection: str,
        page_size: int = 0,
        page_token: str = "",
        search_filter: domain.SearchFilter = domain.SearchFilter(),
        state: domain.ClipState | None = None,
    ) -> tuple[list[domain.Clip], str]:
        """One page of the collection's clips that match the filter and state (None: any), ordered by id, and the
        token of the next page ('' after the last)."""
        self.get_collection(collection)
        rules.check_filter(search_filter)
        size = _page_size(page_size)
        after = _page_after("clip", page_token)
        try:
            after_id = int(after or 0)
        except ValueError:
            raise _invalid_page_token() from None
        if not 0 <= after_id <= MAX_CLIP_ID:  # ids are int64 in both stores
            raise _invalid_page_token()
        clips = self.store.list_clips(collection, after_id, size + 1, search_filter, state)
        more = len(clips) > size
        clips = clips[:size]
        return clips, _page_token("clip", str(clips[-1].id)) if more else ""

    def find_by_content_hash(self, collection: str, content_sha256: str) -> domain.Clip:
        """The clip of that content in the collection; NOT_FOUND if there is none."""
        rules.check_collection_name(collection)
        _check_sha256(content_sha256)
        clip = self.store.find_clip_by_content(collection, content_sha256)
        if clip is None:
            raise NotFound(
                f"no clip with content sha256 {content_sha256} in collection {collection!r}",
                "CLIP_NOT_FOUND",
                collection=collection,
            )
        return clip

    def update_clip_state(
        self,
        clip_id: int,
        state: domain.ClipState | None,
        audio: domain.AudioInfo | None = None,
        segment_count: int | None = None,
    ) -> domain.Clip:
        """Move the clip to `state`, storing the audio facts and segment count when given; returns the clip."""
        if state is None:
            raise InvalidArgument("state is required: one of " + ", ".join(s.value for s in domain.ClipState))
        if audio is not None:
            _check_audio(audio)
        require(segment_count is None or segment_count >= 0, f"segment_count must be >= 0, not {segment_count}")
        clip = self.store.update_clip(clip_id, state, audio, segment_count)
        if clip is None:
            raise clip_not_found(clip_id)
        return clip

    def delete_clip(self, clip_id: int) -> bool:
        """Delete the clip record, then its kept audio unless another clip references it; False if there was none
        (deleting twice is not an error)."""
        clip = self.store.get_clips([clip_id]).get(clip_id)
        deleted = self.store.delete_clip(clip_id)
        if clip is not None and clip.audio_kept:
            self.audio.release([clip.content_sha256])
        return deleted

    def count_clips(self, collection: str) -> dict[str, int]:
        """The collection's clip counts by state name, every state present."""
        self.get_collection(collection)
        counts = self.store.count_clips(collection)
        return {state.value: counts.get(state, 0) for state in domain.ClipState}


def _valid_collection(collection: domain.Collection) -> domain.Collection:
    rules.check_collection_name(collection.name)
    require(
        0 < len(collection.model) <= MAX_MODEL_CHARS,
        f"model is required (at most {MAX_MODEL_CHARS} characters); name the embedding model, e.g. ecapa_tdnn",
    )
    require(
        1 <= collection.dimension <= MAX_DIMENSION,
        f"dimension must be 1..{MAX_DIMENSION}, not {collection.dimension}; use the model's embedding size",
    )
    metric = rules.choice(collection.metric, rules.METRICS, "metric")
    purpose = rules.choice(collection.purpose, rules.PURPOSES, "purpose") if collection.purpose else ""
    rules.check_segments(collection.segments)
    return dataclasses.replace(collection, metric=metric, purpose=purpose, calibration=None)


def _check_calibration(calibration: domain.Calibration) -> None:
    c = calibration
    numbers = (c.threshold, c.equal_error_threshold, c.open_set_threshold)
    rates = (c.target_false_positive_rate, c.false_positive_rate, c.false_negative_rate, c.equal_error_rate,
             c.open_set_false_positive_rate)  # fmt: skip
    require(
        all(math.isfinite(value) for value in numbers) and all(0 <= rate <= 1 for rate in rates),
        "calibration thresholds must be finite numbers and its rates fractions in 0..1",
        "INVALID_CALIBRATION",
    )
    require(
        0 < c.target_false_positive_rate < 1, "calibration.target_false_positive_rate must be in (0, 1), e.g. 0.01",
        "INVALID_CALIBRATION",
    )  # fmt: skip
    require(
        c.positive_trials >= 0 and c.negative_trials > 0 and c.open_set_trials >= 0,
        "a calibration needs negative trials (and a count of positive ones >= 0)",
        "INVALID_CALIBRATION",
    )
    require(
        0 < len(c.scoring) <= MAX_SCORING_CHARS,
        f"calibration.scoring names how trials were scored, in 1..{MAX_SCORING_CHARS} characters",
        "INVALID_CALIBRATION",
    )


def _check_sha256(content_sha256: str) -> None:
    require(
        bool(SHA256_HEX.match(content_sha256)),
        f"content_sha256 {content_sha256[:80]!r} is not a sha256: send 64 lowercase hex digits",
        "INVALID_CONTENT_SHA256",
    )


def _check_audio(audio: domain.AudioInfo) -> None:
    require(
        math.isfinite(audio.duration_seconds) and audio.duration_seconds >= 0,
        f"audio.duration_seconds must be a number >= 0, not {audio.duration_seconds}",
    )
    require(audio.sample_rate >= 0 and audio.channels >= 0, "audio.sample_rate and audio.channels must be >= 0")
    require(
        len(audio.format) <= MAX_AUDIO_FORMAT_CHARS,
        f"audio.format has {len(audio.format)} characters; use at most {MAX_AUDIO_FORMAT_CHARS}",
    )


def _valid_request_id(request_id: str) -> str:
    require(
        len(request_id) <= MAX_REQUEST_ID_CHARS,
        f"request_id has {len(request_id)} characters; use at most {MAX_REQUEST_ID_CHARS} (a UUID fits)",
    )
    return request_id


def _valid_clip(clip: domain.Clip) -> domain.Clip:
    rules.check_collection_name(clip.collection)
    _check_sha256(clip.content_sha256)
    require(
        len(clip.source) <= MAX_SOURCE_CHARS,
        f"source has {len(clip.source)} characters; use at most {MAX_SOURCE_CHARS} (a filename or uri)",
    )
    _check_audio(clip.audio)
    require(clip.segment_count >= 0, f"segment_count must be >= 0, not {clip.segment_count}")
    return dataclasses.replace(clip, labels=rules.valid_labels(clip.labels))


def _page_size(requested: int) -> int:
    require(requested >= 0, f"page_size must be >= 0 (0 means {DEFAULT_PAGE_SIZE}), not {requested}")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _page_token(kind: str, last_key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_key}".encode()).decode("ascii")


def _page_after(kind: str, page_token: str) -> str:
    """The last key of the page before `page_token` ('' for the first page)."""
    if not page_token:
        return ""
    try:
        found_kind, last_key = base64.urlsafe_b64decode(page_token.encode("ascii")).decode().split(":", 1)
    except ValueError:
        raise _invalid_page_token() from None
    if found_kind != kind:
        raise _invalid_page_token()
    return last_key


def _invalid_page_token() -> InvalidArgument:
    return InvalidArgument(
        "page_token is not one this service issued; pass next_page_token from the previous page, or '' to start",
        "INVALID_PAGE_TOKEN",
    )
