"""Import jobs in the relational store (tables from migration `import jobs` in store.py), on MetadataStore's
connections and transactions: the job row, its file listing with each file's outcome, and the lease.

The lease is a compare-and-set on the job row (holder, lease_expires_at), timed by this service's clock so the
gateways' clocks never matter. Every write made for a running job first re-takes the row with an UPDATE that names
its holder: the row lock orders it against a takeover, and a holder that lost the job writes nothing.
"""

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from audiosearch.runtime import domain, rules
from audiosearch.runtime.import_jobs import CompletedFile, FileOutcome, ImportFile, ImportJob, JobState, Rebuild
from audiosearch.sdk import errors
from metadata_service.store import MetadataStore, _marks, _now, _Sql, _time_from_db, _time_to_db

# Unfinished states: a gateway may claim the job when its lease is free or expired.
_LIVE = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.CANCELLING.value)
_JOB_COLUMNS = (
    "id, collection, path, recurse, speaker, sound_class, tags, label_from_parent, state, files_found, listing_done,"
    " files_added, files_duplicate, files_failed, error, holder, lease_expires_at, created_at, updated_at,"
    " started_at, ended_at, rebuild_model, rebuild_dimension, rebuild_metric, rebuild_window, rebuild_hop,"
    " vector_collection"
)
_COUNTERS = {
    FileOutcome.ADDED: "files_added",
    FileOutcome.DUPLICATE: "files_duplicate",
    FileOutcome.FAILED: "files_failed",
}
_FREE_LEASE = "(holder = '' OR holder = ? OR lease_expires_at < ?)"


def _time_or_none(value) -> datetime | None:
    return _time_from_db(value) if value is not None else None


def _job_from_row(row: Sequence) -> ImportJob:
    (job_id, collection, path, recurse, speaker, sound_class, tags, label_from_parent, state, found, listed,
     added, duplicate, failed, error, holder, lease, created, updated, started, ended, rebuild_model,
     rebuild_dimension, rebuild_metric, rebuild_window, rebuild_hop, vector_collection) = row  # fmt: skip
    rebuild = None
    if rebuild_model:
        windows = domain.SegmentOptions(rebuild_window, rebuild_hop)
        rebuild = Rebuild(rebuild_model, rebuild_dimension, rebuild_metric, windows, vector_collection)
    return ImportJob(
        id=job_id,
        collection=collection,
        path=path,
        recursive=bool(recurse),
        labels=domain.Labels(speaker=speaker, sound_class=sound_class, tags=tuple(json.loads(tags))),
        label_from_parent=bool(label_from_parent),
        state=JobState(state),
        files_found=found,
        listing_done=bool(listed),
        files_added=added,
        files_duplicate=duplicate,
        files_failed=failed,
        error=error,
        holder=holder,
        lease_expire_time=_time_or_none(lease),
        create_time=_time_from_db(created),
        update_time=_time_from_db(updated),
        start_time=_time_or_none(started),
        end_time=_time_or_none(ended),
        rebuild=rebuild,
    )


def _lease_lost(job_id: int, holder: str) -> errors.FailedPrecondition:
    return errors.FailedPrecondition(
        f"import job {job_id} is no longer held by {holder}: its lease expired and another gateway took it over,"
        " or it finished",
        "LEASE_LOST",
        job_id=str(job_id),
    )


class _OneByOne(Exception):
    """A batch of import clips that must be created one by one (rolls its transaction back)."""


class ImportJobStore:
    """Import jobs beside the clips, in the same database. Safe to share between threads."""

    def __init__(self, store: "MetadataStore | object", file_retention: timedelta | None = None) -> None:
        # A MetadataStore, or the TimedStore around one (its private members pass through untimed).
        self._store: Any = store
        # How long an ended job keeps the rows of its files that did not fail; None: for ever.
        self.file_retention = file_retention

    def _transaction(self, work):
        return self._store._transaction(work)

    def _select(self, sql: _Sql, job_id: int) -> ImportJob | None:
        row = sql.execute(f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE id = ?", (job_id,)).fetchone()
        return _job_from_row(row) if row else None

    def _hold(self, sql: _Sql, job_id: int, holder: str) -> None:
        """Take the job's row lock as its holder, or raise LEASE_LOST."""
        held = sql.execute(
            f"UPDATE import_jobs SET updated_at = ? WHERE id = ? AND holder = ? AND state IN ({_marks(len(_LIVE))})",
            (_time_to_db(_now()), job_id, holder, *_LIVE),
        ).rowcount
        if not held:
            raise _lease_lost(job_id, holder)

    def insert(self, job: ImportJob, request_id: str) -> ImportJob:
        """Store a QUEUED job; the job already stored under request_id when there is one."""
        now = _time_to_db(_now())

        def work(sql: _Sql) -> ImportJob:
            if request_id:
                row = sql.execute(f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE request_id = ?", (request_id,))
                existing = row.fetchone()
                if existing:
                    return _job_from_row(existing)
            labels = job.labels
            rebuild = job.rebuild or Rebuild("", 0, "")
            cursor = sql.execute(
                "INSERT INTO import_jobs (collection, path, recurse, speaker, sound_class, tags, label_from_parent,"
                " request_id, state, files_found, listing_done, files_added, files_duplicate, files_failed, error,"
                " holder, created_at, updated_at, rebuild_model, rebuild_dimension, rebuild_metric, rebuild_window,"
                f" rebuild_hop) VALUES ({_marks(23)})",
                (job.collection, job.path, int(job.recursive), labels.speaker, labels.sound_class,
                 json.dumps(list(labels.tags)), int(job.label_from_parent), request_id or None, JobState.QUEUED.value,
                 0, 0, 0, 0, 0, "", "", now, now, rebuild.model, rebuild.dimension, rebuild.metric,
                 rebuild.segments.window_seconds, rebuild.segments.hop_seconds),
            )  # fmt: skip
            job_id = cursor.lastrowid  # read before the next statement: the cursor is shared
            if job.rebuild is not None:  # its vectors' name carries the job's id, known only now
                vectors = rules.rebuild_vectors_name(job.collection, job_id)
                sql.execute("UPDATE import_jobs SET vector_collection = ? WHERE id = ?", (vectors, job_id))
            created = self._select(sql, job_id)
            assert created is not None
            return created

        try:
            return self._transaction(work)
        except self._store._dialect.conflict:  # a concurrent create with the same request_id won: return its job
            return self._transaction(
                lambda sql: _job_from_row(
                    sql.execute(
                        f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE request_id = ?", (request_id,)
                    ).fetchone()
                )
            )

    def get(self, job_id: int) -> ImportJob | None:
        return self._transaction(lambda sql: self._select(sql, job_id))

    def list_jobs(self, before_id: int, limit: int) -> list[ImportJob]:
        """Jobs newest first, starting before `before_id` (0: from the newest)."""
        where, params = ("WHERE id < ? ", [before_id]) if before_id else ("", [])
        rows = self._transaction(
            lambda sql: sql.execute(
                f"SELECT {_JOB_COLUMNS} FROM import_jobs {where}ORDER BY id DESC LIMIT ?", [*params, limit]
            ).fetchall()
        )
        return [_job_from_row(row) for row in rows]

    def cancel(self, job_id: int) -> ImportJob | None:
        """QUEUED -> CANCELLED, RUNNING -> CANCELLING; anything else is left as it is."""
        now = _time_to_db(_now())

        def work(sql: _Sql) -> ImportJob | None:
            sql.execute(
                "UPDATE import_jobs SET state = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state = ?",
                (JobState.CANCELLED.value, now, now, job_id, JobState.QUEUED.value),
            )
            sql.execute(
                "UPDATE import_jobs SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (JobState.CANCELLING.value, now, job_id, JobState.RUNNING.value),
            )
            return self._select(sql, job_id)

        return self._transaction(work)

    def claim(self, holder: str, lease_seconds: float) -> ImportJob | None:
        """Take the oldest unfinished job whose lease is free, expired or already `holder`'s (compare-and-set)."""
        now = _now()
        expires = _time_to_db(now + timedelta(seconds=lease_seconds))
        live = _marks(len(_LIVE))

        def work(sql: _Sql) -> ImportJob | None:
            free = (*_LIVE, holder, _time_to_db(now))
            row = sql.execute(
                f"SELECT id FROM import_jobs WHERE state IN ({live}) AND {_FREE_LEASE} ORDER BY id LIMIT 1", free
            ).fetchone()
            if row is None:
                return None
            taken = sql.execute(
                "UPDATE import_jobs SET holder = ?, lease_expires_at = ?, updated_at = ?,"
                " state = CASE WHEN state = ? THEN ? ELSE state END, started_at = COALESCE(started_at, ?)"
                f" WHERE id = ? AND state IN ({live}) AND {_FREE_LEASE}",
                (holder, expires, _time_to_db(now), JobState.QUEUED.value, JobState.RUNNING.value, _time_to_db(now),
                 row[0], *free),
            ).rowcount  # fmt: skip
            return self._select(sql, row[0]) if taken else None

        return self._transaction(work)

    def renew(self, job_id: int, holder: str, lease_seconds: float) -> ImportJob:
        expires = _time_to_db(_now() + timedelta(seconds=lease_seconds))

        def work(sql: _Sql) -> ImportJob:
            self._hold(sql, job_id, holder)
            sql.execute("UPDATE import_jobs SET lease_expires_at = ? WHERE id = ?", (expires, job_id))
            job = self._select(sql, job_id)
            assert job is not None
            return job

        return self._transaction(work)

    def add_files(self, job_id: int, holder: str, first_ordinal: int, paths: Sequence[str], done: bool) -> ImportJob:
        """Append the listing's next paths; ordinals already stored (a listing resumed) are skipped."""

        def work(sql: _Sql) -> ImportJob:
            self._hold(sql, job_id, holder)
            stored = sql.execute("SELECT COUNT(*) FROM import_job_files WHERE job_id = ?", (job_id,)).fetchone()[0]
            for ordinal, path in enumerate(paths, start=first_ordinal):
                if ordinal >= stored:
                    sql.execute(
                        "INSERT INTO import_job_files (job_id, ordinal, path, outcome, clip_id, error)"
                        " VALUES (?, ?, ?, NULL, 0, '')",
                        (job_id, ordinal, path),
                    )
            found = max(stored, first_ordinal + len(paths))
            sql.execute(
                "UPDATE import_jobs SET files_found = ?, listing_done = ? WHERE id = ?", (found, int(done), job_id)
            )
            job = self._select(sql, job_id)
            assert job is not None
            return job

        return self._transaction(work)

    def files(self, job_id: int, after_ordinal: int, limit: int, outcome: str) -> list[ImportFile]:
        """Files in listing order after `after_ordinal`: outcome 'PENDING' (none yet), 'FAILED', or '' for all."""
        where = {"PENDING": " AND outcome IS NULL", "FAILED": " AND outcome = 'FAILED'", "": ""}[outcome]
        rows = self._transaction(
            lambda sql: sql.execute(
                "SELECT ordinal, path, outcome, clip_id, error FROM import_job_files"
                f" WHERE job_id = ? AND ordinal > ?{where} ORDER BY ordinal LIMIT ?",
                (job_id, after_ordinal, limit),
            ).fetchall()
        )
        return [
            ImportFile(ordinal, path, FileOutcome(result) if result else None, clip_id, error)
            for ordinal, path, result, clip_id, error in rows
        ]

    def create_clips(
        self, job_id: int, holder: str, drafts: Sequence[tuple[domain.Clip, str]]
    ) -> list[tuple[domain.Clip, bool]] | None:
        """In one transaction, as the job's holder: each draft's clip as MetadataCore.create_clip gives it, and whether
        it is `ours` (this request_id's, made now or before a crash): the clip of its request_id, else the one of its
        content, else a new PENDING one. None, with nothing written, when a draft needs create_clip's own answer (a
        request_id used for other audio, a key a concurrent create took, a collection dropped): the caller then
        creates them one by one."""
        now = _now()
        store = self._store

        def work(sql: _Sql) -> list[tuple[domain.Clip, bool]]:
            self._hold(sql, job_id, holder)
            created: list[tuple[domain.Clip, bool]] = []
            for draft, request_id in drafts:
                mine = request_id and store._select_clips(
                    sql, "collection = ? AND request_id = ?", (draft.collection, request_id)
                )
                if mine:
                    if mine[0].content_sha256 != draft.content_sha256:
                        raise _OneByOne()
                    created.append((mine[0], True))
                    continue
                same = store._select_clips(
                    sql, "collection = ? AND content_sha256 = ?", (draft.collection, draft.content_sha256)
                )
                created.append((same[0], False) if same else (store._insert_clip(sql, draft, request_id, now), True))
            return created

        try:
            return self._transaction(work)
        except (_OneByOne, *store._dialect.conflict):
            return None

    def check_holder(self, job_id: int, holder: str) -> ImportJob:
        def work(sql: _Sql) -> ImportJob:
            self._hold(sql, job_id, holder)
            job = self._select(sql, job_id)
            assert job is not None
            return job

        return self._transaction(work)

    def complete(self, job_id: int, holder: str, files: Sequence[CompletedFile]) -> ImportJob:
        """In one transaction: mark the clips READY, record each file's outcome once, and count it."""
        now = _time_to_db(_now())

        def work(sql: _Sql) -> ImportJob:
            self._hold(sql, job_id, holder)
            job = self._select(sql, job_id)
            assert job is not None
            if not sql.execute("SELECT 1 FROM collections WHERE name = ?", (job.collection,)).fetchone():
                raise errors.NotFound(
                    f"collection {job.collection!r} was dropped during import job {job_id}",
                    "COLLECTION_NOT_FOUND",
                    collection=job.collection,
                )
            counts = dict.fromkeys(FileOutcome, 0)
            for file in files:
                outcome, error = file.outcome, file.error
                if file.ready_segment_count and not self._mark_ready(sql, file, job.collection, now):
                    outcome, error = FileOutcome.FAILED, "ABORTED: the clip was deleted while it was imported"
                recorded = sql.execute(
                    "UPDATE import_job_files SET outcome = ?, clip_id = ?, error = ?"
                    " WHERE job_id = ? AND ordinal = ? AND outcome IS NULL",
                    (outcome.value, file.clip_id if outcome is not FileOutcome.FAILED else 0, error[:2048], job_id,
                     file.ordinal),
                ).rowcount  # fmt: skip
                counts[outcome] += recorded
            increments = ", ".join(f"{column} = {column} + ?" for column in _COUNTERS.values())
            sql.execute(
                f"UPDATE import_jobs SET {increments} WHERE id = ?", (*(counts[key] for key in _COUNTERS), job_id)
            )
            updated = self._select(sql, job_id)
            assert updated is not None
            return updated

        return self._transaction(work)

    @staticmethod
    def _switch_collection(sql: _Sql, collection: str, rebuild: Rebuild) -> None:
        switched = sql.execute(
            "UPDATE collections SET model = ?, dimension = ?, metric = ?, segment_window = ?, segment_hop = ?"
            " WHERE name = ?",
            (rebuild.model, rebuild.dimension, rebuild.metric, rebuild.segments.window_seconds,
             rebuild.segments.hop_seconds, collection),
        ).rowcount  # fmt: skip
        if not switched:
            raise errors.NotFound(
                f"collection {collection!r} was dropped during its rebuild",
                "COLLECTION_NOT_FOUND",
                collection=collection,
            )
        sql.execute("DELETE FROM calibrations WHERE collection = ?", (collection,))

    @staticmethod
    def _mark_ready(sql: _Sql, file: CompletedFile, collection: str, now: str) -> bool:
        return bool(
            sql.execute(
                "UPDATE clips SET state = ?, segment_count = ?, updated_at = ?"
                " WHERE id = ? AND collection = ? AND state IN (?, ?)",
                (
                    domain.ClipState.READY.value,
                    file.ready_segment_count,
                    now,
                    file.clip_id,
                    collection,
                    domain.ClipState.PENDING.value,
                    domain.ClipState.READY.value,
                ),
            ).rowcount  # fmt: skip
        )

    def finish(self, job_id: int, holder: str, state: JobState, error: str) -> ImportJob:
        """End the job; a rebuild that SUCCEEDED switches its collection to the new model and windows in the same
        transaction (its calibration, measured with the old model, goes)."""
        now = _time_to_db(_now())

        def work(sql: _Sql) -> ImportJob:
            self._hold(sql, job_id, holder)
            job = self._select(sql, job_id)
            assert job is not None
            if state is JobState.SUCCEEDED and job.rebuild is not None:
                self._switch_collection(sql, job.collection, job.rebuild)
            sql.execute(
                "UPDATE import_jobs SET state = ?, error = ?, ended_at = ?, holder = '', lease_expires_at = NULL"
                " WHERE id = ?",
                (state.value, error[:2048], now, job_id),
            )
            job = self._select(sql, job_id)
            assert job is not None
            return job

        finished = self._transaction(work)
        self.prune_files()
        return finished

    def prune_files(self) -> int:
        """Delete the file rows of jobs ended more than file_retention ago, all but their failures (a 650k-file
        import leaves 650k rows; its counts stay on the job, and ListImportJobFailures still lists every failure).
        Each job in its own transaction; returns the rows deleted."""
        if self.file_retention is None:
            return 0
        cutoff = _time_to_db(_now() - self.file_retention)
        ended = self._transaction(
            lambda sql: sql.execute(
                "SELECT id FROM import_jobs WHERE ended_at IS NOT NULL AND ended_at <= ? ORDER BY id", (cutoff,)
            ).fetchall()
        )
        failed = FileOutcome.FAILED.value
        return sum(
            self._transaction(
                lambda sql, job_id=job_id: (
                    sql.execute(
                        "DELETE FROM import_job_files WHERE job_id = ? AND (outcome IS NULL OR outcome <> ?)",
                        (job_id, failed),
                    ).rowcount
                )
            )
            for (job_id,) in ended
        )
