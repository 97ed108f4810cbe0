"""The relational store of collections and clips: SQLite (embedded default) or MySQL/MariaDB, chosen by one URL.

The only module that runs SQL. Every value is a bound parameter; the only text formatted into a statement is SQL
written here (column lists, `?` marks) and a database name checked against a strict pattern.
"""

import dataclasses
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from audiosearch.runtime import domain
from audiosearch.runtime.logs import log_fields
from audiosearch.sdk import errors
from audiosearch.sdk.errors import SettingsError

log = logging.getLogger("audiosearch.metadata.store")

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 5
# A statement waits this long for a lock (SQLite busy file, InnoDB row lock) before failing.
LOCK_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60
DEADLOCK_ATTEMPTS = 3
# Ids per IN (...) list: below SQLite's bound-parameter limit on every build.
ID_CHUNK = 500
_DATABASE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_MYSQL_DEADLOCK, _MYSQL_LOCK_WAIT_TIMEOUT, _MYSQL_UNKNOWN_DATABASE = 1213, 1205, 1049

# Ordered: version N is _MIGRATIONS[N - 1]. Append, never edit. {id}, {time}, {options} are per-backend DDL.
_MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE collections (
            name VARCHAR(64) NOT NULL PRIMARY KEY,
            model VARCHAR(128) NOT NULL,
            dimension INTEGER NOT NULL,
            metric VARCHAR(16) NOT NULL,
            segment_window DOUBLE NOT NULL,
            segment_hop DOUBLE NOT NULL,
            created_at {time} NOT NULL
        ){options}""",
        """CREATE TABLE clips (
            id {id},
            collection VARCHAR(64) NOT NULL,
            content_sha256 CHAR(64) NOT NULL,
            source VARCHAR(1024) NOT NULL,
            duration DOUBLE NOT NULL,
            sample_rate INTEGER NOT NULL,
            channels INTEGER NOT NULL,
            audio_format VARCHAR(32) NOT NULL,
            speaker VARCHAR(256) NOT NULL,
            sound_class VARCHAR(256) NOT NULL,
            state VARCHAR(16) NOT NULL,
            request_id VARCHAR(128),
            segment_count INTEGER NOT NULL,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            CONSTRAINT clips_content UNIQUE (collection, content_sha256),
            CONSTRAINT clips_request UNIQUE (collection, request_id),
            CONSTRAINT clips_collection FOREIGN KEY (collection) REFERENCES collections (name) ON DELETE CASCADE
        ){options}""",
        "CREATE INDEX clips_by_collection ON clips (collection, id)",
        # Tags in a side table so a tag filter is an indexed lookup; ordinal keeps the order the user gave.
        """CREATE TABLE clip_tags (
            clip_id BIGINT NOT NULL,
            ordinal INTEGER NOT NULL,
            tag VARCHAR(256) NOT NULL,
            PRIMARY KEY (clip_id, ordinal),
            CONSTRAINT clip_tags_clip FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE
        ){options}""",
        "CREATE INDEX clip_tags_by_tag ON clip_tags (tag, clip_id)",
    ),
    # 2: what a collection is for, net speech per clip, and a collection's calibration (issue #12).
    (
        "ALTER TABLE collections ADD COLUMN purpose VARCHAR(32) NOT NULL DEFAULT ''",
        "ALTER TABLE clips ADD COLUMN speech_seconds DOUBLE NOT NULL DEFAULT 0",
        """CREATE TABLE calibrations (
            collection VARCHAR(64) NOT NULL PRIMARY KEY,
            threshold DOUBLE NOT NULL,
            target_fpr DOUBLE NOT NULL,
            fpr DOUBLE NOT NULL,
            fnr DOUBLE NOT NULL,
            eer DOUBLE NOT NULL,
            eer_threshold DOUBLE NOT NULL,
            positive_trials BIGINT NOT NULL,
            negative_trials BIGINT NOT NULL,
            scoring VARCHAR(64) NOT NULL,
            calibrated_at {time} NOT NULL,
            CONSTRAINT calibrations_collection FOREIGN KEY (collection) REFERENCES collections (name) ON DELETE CASCADE
        ){options}""",
    ),
    # Import jobs (issue #14; metadata_service/job_store.py): the job with its lease, and its file listing with
    # each file's outcome. No foreign key to the collection: a job outlives a dropped collection, as FAILED.
    (
        """CREATE TABLE import_jobs (
            id {id},
            collection VARCHAR(64) NOT NULL,
            path VARCHAR(2048) NOT NULL,
            recurse INTEGER NOT NULL,
            speaker VARCHAR(256) NOT NULL,
            sound_class VARCHAR(256) NOT NULL,
            tags TEXT NOT NULL,
            label_from_parent INTEGER NOT NULL,
            request_id VARCHAR(128),
            state VARCHAR(16) NOT NULL,
            files_found BIGINT NOT NULL,
            listing_done INTEGER NOT NULL,
            files_added BIGINT NOT NULL,
            files_duplicate BIGINT NOT NULL,
            files_failed BIGINT NOT NULL,
            error VARCHAR(2048) NOT NULL,
            holder VARCHAR(256) NOT NULL,
            lease_expires_at {time} NULL,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            started_at {time} NULL,
            ended_at {time} NULL,
            CONSTRAINT import_jobs_request UNIQUE (request_id)
        ){options}""",
        "CREATE INDEX import_jobs_by_state ON import_jobs (state, id)",
        """CREATE TABLE import_job_files (
            job_id BIGINT NOT NULL,
            ordinal BIGINT NOT NULL,
            path VARCHAR(2048) NOT NULL,
            outcome VARCHAR(16),
            clip_id BIGINT NOT NULL,
            error VARCHAR(2048) NOT NULL,
            PRIMARY KEY (job_id, ordinal),
            CONSTRAINT import_job_files_job FOREIGN KEY (job_id) REFERENCES import_jobs (id) ON DELETE CASCADE
        ){options}""",
    ),
    # 4: a calibration's open-set (1:N) threshold (issue #12).
    (
        "ALTER TABLE calibrations ADD COLUMN open_set_threshold DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE calibrations ADD COLUMN open_set_fpr DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE calibrations ADD COLUMN open_set_trials BIGINT NOT NULL DEFAULT 0",
    ),
    # 5: a speaker's utterances by index, not by a scan of the collection's clips (issue #12).
    ("CREATE INDEX clips_by_speaker ON clips (collection, speaker, id)",),
    # 6: rebuild jobs (issue #16): an import job whose files are its collection's clips, re-embedded with this model
    # and these windows into this vector collection; rebuild_model '' for a folder import.
    (
        "ALTER TABLE import_jobs ADD COLUMN rebuild_model VARCHAR(128) NOT NULL DEFAULT ''",
        "ALTER TABLE import_jobs ADD COLUMN rebuild_dimension INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE import_jobs ADD COLUMN rebuild_metric VARCHAR(16) NOT NULL DEFAULT ''",
        "ALTER TABLE import_jobs ADD COLUMN rebuild_window DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE import_jobs ADD COLUMN rebuild_hop DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE import_jobs ADD COLUMN vector_collection VARCHAR(255) NOT NULL DEFAULT ''",
    ),
    # 7: kept audio (issue #16, docs/kept-audio.md): whether a collection keeps its clips' bytes and whether a clip's
    # are kept; blobs are shared by content across collections, so their references are looked up by hash alone.
    (
        "ALTER TABLE collections ADD COLUMN keep_audio INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE clips ADD COLUMN audio_kept INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX clips_by_kept_content ON clips (content_sha256, audio_kept)",
    ),
]
SCHEMA_VERSION = len(_MIGRATIONS)

_CLIP_COLUMNS = (
    "id, collection, content_sha256, source, duration, sample_rate, channels, audio_format, speaker, sound_class,"
    " state, segment_count, created_at, updated_at, speech_seconds, audio_kept"
)
_COLLECTION_COLUMNS = "name, model, dimension, metric, segment_window, segment_hop, created_at, purpose, keep_audio"
_CALIBRATION_COLUMNS = (
    "threshold, target_fpr, fpr, fnr, eer, eer_threshold, positive_trials, negative_trials, scoring, calibrated_at,"
    " open_set_threshold, open_set_fpr, open_set_trials"
)
# A collection with its calibration, if any (one row per collection: the calibration's key is the collection).
_COLLECTION_SELECT = (
    "SELECT " + ", ".join(f"c.{name}" for name in _COLLECTION_COLUMNS.split(", ")) + ", "
    + ", ".join(f"k.{name}" for name in _CALIBRATION_COLUMNS.split(", "))
    + " FROM collections c LEFT JOIN calibrations k ON k.collection = c.name"
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _Dialect:
    """What differs between the backends: DDL types, the parameter mark, and which errors mean what."""

    name: str
    placeholder: str
    ddl_types: dict[str, str]
    unavailable: tuple[type[Exception], ...]
    conflict: tuple[type[Exception], ...]
    is_deadlock: Callable[[Exception], bool]
    # SQLite can roll back DDL, so a migration is all or nothing there; MySQL commits each DDL statement.
    transactional_ddl: bool


def _sqlite_dialect() -> _Dialect:
    return _Dialect(
        name="sqlite",
        placeholder="?",
        # AUTOINCREMENT: ids are Milvus primary keys, so a deleted clip's id must never be handed out again.
        ddl_types={"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "time": "TEXT", "options": ""},
        unavailable=(sqlite3.OperationalError, OSError),
        conflict=(sqlite3.IntegrityError,),
        is_deadlock=lambda error: False,
        transactional_ddl=True,
    )


def _mysql_dialect(pymysql) -> _Dialect:
    return _Dialect(
        name="mysql",
        placeholder="%s",
        # Binary collation: names, hashes and labels compare exactly, as they do in SQLite.
        ddl_types={
            "id": "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "time": "DATETIME(6)",
            "options": " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        },
        unavailable=(pymysql.err.OperationalError, pymysql.err.InterfaceError),
        conflict=(pymysql.err.IntegrityError,),
        is_deadlock=lambda error: bool(error.args) and error.args[0] in (_MYSQL_DEADLOCK, _MYSQL_LOCK_WAIT_TIMEOUT),
        transactional_ddl=False,
    )


class _SqliteConnections:
    """One connection behind a lock: SQLite allows one writer at a time anyway, and this one never sees 'busy'."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=LOCK_TIMEOUT_SECONDS, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None:
                self._connection = self._open()
            yield self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class _MysqlConnections:
    """A pool that grows to the number of concurrent callers; a connection that failed is closed, never reused.

    A pooled connection is pinged before each use and replaced if the server dropped it (restart, idle timeout).
    """

    def __init__(self, pymysql, params: dict[str, Any], broken: tuple[type[Exception], ...]) -> None:
        self._pymysql = pymysql
        self._params = params
        self._broken = broken
        self._lock = threading.Lock()
        self._idle: list[Any] = []

    def _open(self):
        try:
            return self._pymysql.connect(**self._params)
        except self._pymysql.err.OperationalError as error:
            if not error.args or error.args[0] != _MYSQL_UNKNOWN_DATABASE:
                raise
        self._create_database()
        return self._pymysql.connect(**self._params)

    def _create_database(self) -> None:
        params = {key: value for key, value in self._params.items() if key != "database"}
        with self._pymysql.connect(**params) as server:
            # An identifier cannot be a bound parameter; the name was checked against _DATABASE_NAME.
            server.cursor().execute(
                f"CREATE DATABASE IF NOT EXISTS `{self._params['database']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
        log.info("created database", extra=log_fields(database=self._params["database"]))

    def _take(self):
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            try:
                connection.ping()
                return connection
            except self._pymysql.err.Error:
                with suppress(self._pymysql.err.Error):
                    connection.close()
        return self._open()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        connection = self._take()
        broken = False
        try:
            yield connection
        except self._broken:
            broken = True
            raise
        finally:
            if broken:
                with suppress(self._pymysql.err.Error):
                    connection.close()
            else:
                with self._lock:
                    self._idle.append(connection)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            with suppress(self._pymysql.err.Error):
                connection.close()


class _Sql:
    """A cursor that takes `?` marks on every backend."""

    def __init__(self, cursor, placeholder: str) -> None:
        self._cursor = cursor
        self._placeholder = placeholder

    def execute(self, statement: str, params: Sequence = ()):
        if self._placeholder != "?":
            statement = statement.replace("?", self._placeholder)
        self._cursor.execute(statement, tuple(params))
        return self._cursor


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), ID_CHUNK):
        yield values[start : start + ID_CHUNK]


def _now() -> datetime:
    return datetime.now(UTC)


def _time_to_db(value: datetime) -> str:
    # Naive UTC text with microseconds: sorts correctly in SQLite and is what DATETIME(6) accepts.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _time_from_db(value: datetime | str) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC)


def _collection_from_row(row: Sequence) -> domain.Collection:
    name, model, dimension, metric, window, hop, created_at, purpose, keep_audio = row[:9]
    return domain.Collection(
        name=name,
        model=model,
        dimension=dimension,
        metric=metric,
        segments=domain.SegmentOptions(window_seconds=window, hop_seconds=hop),
        create_time=_time_from_db(created_at),
        purpose=purpose,
        calibration=_calibration_from_row(row[9:]),
        keep_audio=bool(keep_audio),
    )


def _calibration_from_row(row: Sequence) -> domain.Calibration | None:
    if row[0] is None:  # no calibrations row joined
        return None
    threshold, target, fpr, fnr, eer, eer_threshold, positives, negatives, scoring, calibrated_at = row[:10]
    return domain.Calibration(
        threshold, target, fpr, fnr, eer, eer_threshold, positives, negatives, scoring, _time_from_db(calibrated_at),
        *row[10:],
    )  # fmt: skip


def _clip_from_row(row: Sequence, tags: tuple[str, ...]) -> domain.Clip:
    (clip_id, collection, sha256, source, duration, sample_rate, channels, audio_format, speaker, sound_class,
     state, segment_count, created_at, updated_at, speech_seconds, audio_kept) = row  # fmt: skip
    return domain.Clip(
        id=clip_id,
        collection=collection,
        content_sha256=sha256,
        source=source,
        audio=domain.AudioInfo(
            duration_seconds=duration,
            sample_rate=sample_rate,
            channels=channels,
            format=audio_format,
            speech_seconds=speech_seconds,
        ),
        labels=domain.Labels(speaker=speaker, sound_class=sound_class, tags=tags),
        state=domain.ClipState(state),
        create_time=_time_from_db(created_at),
        update_time=_time_from_db(updated_at),
        segment_count=segment_count,
        audio_kept=bool(audio_kept),
    )


class MetadataStore:
    """Collections and clip records in one SQL database. Safe to share between threads."""

    def __init__(self, connections, dialect: _Dialect, location: str) -> None:
        self._connections = connections
        self._dialect = dialect
        self.location = location

    @property
    def backend(self) -> str:
        return self._dialect.name

    def close(self) -> None:
        self._connections.close()

    def _transaction(self, work: Callable[[_Sql], T]) -> T:
        """Run `work` in one transaction, retried on deadlock; an unreachable database raises Unavailable."""
        attempt = 1
        while True:
            try:
                return self._attempt(work)
            except self._dialect.unavailable as error:
                if self._dialect.is_deadlock(error) and attempt < DEADLOCK_ATTEMPTS:
                    log.info("deadlock; retrying the transaction", extra=log_fields(attempt=attempt))
                    attempt += 1
                    continue
                raise errors.Unavailable(
                    f"the {self.backend} metadata database ({self.location}) is unavailable: {error}."
                    " Check that it is running and reachable, then retry.",
                    "DATABASE_UNAVAILABLE",
                    backend=self.backend,
                ) from error

    def _attempt(self, work: Callable[[_Sql], T]) -> T:
        with self._connections.connection() as connection:
            try:
                result = work(_Sql(connection.cursor(), self._dialect.placeholder))
                connection.commit()
                return result
            except BaseException:
                with suppress(*self._dialect.unavailable):
                    connection.rollback()
                raise

    def migrate(self) -> int:
        """Create or upgrade the schema to SCHEMA_VERSION; returns the version found before."""

        def work(sql: _Sql) -> int:
            if self._dialect.transactional_ddl:
                sql.execute("BEGIN")  # sqlite3 opens transactions only for DML on its own
            sql.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY)"
                + self._dialect.ddl_types["options"]
            )
            found = sql.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            if found > SCHEMA_VERSION:
                raise errors.FailedPrecondition(
                    f"the metadata database ({self.location}) has schema version {found}, newer than this"
                    f" service's {SCHEMA_VERSION}; run a newer audiosearch-metadata.",
                    "SCHEMA_TOO_NEW",
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version - 1]:
                    sql.execute(statement.format(**self._dialect.ddl_types))
                sql.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            return found

        found = self._transaction(work)
        if found < SCHEMA_VERSION:
            log.info("schema migrated", extra=log_fields(from_version=found, to_version=SCHEMA_VERSION))
        return found

    # --- collections

    def insert_collection(self, collection: domain.Collection) -> domain.Collection | None:
        """The stored collection, or None when one of that name exists."""
        created = _now()
        stored = dataclasses.replace(collection, create_time=created)
        segments = stored.segments
        try:
            self._transaction(
                lambda sql: sql.execute(
                    f"INSERT INTO collections ({_COLLECTION_COLUMNS}) VALUES ({_marks(9)})",
                    (
                        stored.name,
                        stored.model,
                        stored.dimension,
                        stored.metric,
                        segments.window_seconds,
                        segments.hop_seconds,
                        _time_to_db(created),
                        stored.purpose,
                        int(stored.keep_audio),
                    ),
                )  # fmt: skip
            )
        except self._dialect.conflict:
            return None
        return dataclasses.replace(stored, calibration=None)

    def get_collection(self, name: str) -> domain.Collection | None:
        row = self._transaction(lambda sql: sql.execute(f"{_COLLECTION_SELECT} WHERE c.name = ?", (name,)).fetchone())
        return _collection_from_row(row) if row else None

    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection | None:
        """Replace (or with None remove) the collection's calibration; the collection, or None if it is absent."""

        def work(sql: _Sql) -> None:
            sql.execute("DELETE FROM calibrations WHERE collection = ?", (name,))
            if calibration is not None:
                c = calibration
                sql.execute(
                    f"INSERT INTO calibrations (collection, {_CALIBRATION_COLUMNS}) VALUES ({_marks(14)})",
                    (name, c.threshold, c.target_false_positive_rate, c.false_positive_rate, c.false_negative_rate,
                     c.equal_error_rate, c.equal_error_threshold, c.positive_trials, c.negative_trials, c.scoring,
                     _time_to_db(c.calibrate_time or _now()), c.open_set_threshold, c.open_set_false_positive_rate,
                     c.open_set_trials),
                )  # fmt: skip

        try:
            self._transaction(work)
        except self._dialect.conflict:  # the foreign key: no such collection
            return None
        return self.get_collection(name)

    def list_collections(self, after_name: str, limit: int) -> list[domain.Collection]:
        """Collections ordered by name, starting after `after_name`."""
        rows = self._transaction(
            lambda sql: sql.execute(
                f"{_COLLECTION_SELECT} WHERE c.name > ? ORDER BY c.name LIMIT ?", (after_name, limit)
            ).fetchall()
        )
        return [_collection_from_row(row) for row in rows]

    def delete_collection(self, name: str) -> int | None:
        """Delete the collection and (by cascade) its clips; the number of clips, or None if it did not exist."""

        def work(sql: _Sql) -> int | None:
            clips = sql.execute("SELECT COUNT(*) FROM clips WHERE collection = ?", (name,)).fetchone()[0]
            deleted = sql.execute("DELETE FROM collections WHERE name = ?", (name,)).rowcount
            return clips if deleted else None

        return self._transaction(work)

    # --- clips

    def insert_clip(self, clip: domain.Clip, request_id: str) -> domain.Clip | None:
        """Store a new PENDING clip and assign its id; None when the content or request id is already stored in
        the collection, or the collection does not exist (the unique and foreign keys decide, atomically)."""
        now = _now()
        try:
            return self._transaction(lambda sql: self._insert_clip(sql, clip, request_id, now))
        except self._dialect.conflict:
            return None

    @staticmethod
    def _insert_clip(sql: _Sql, clip: domain.Clip, request_id: str, now: datetime) -> domain.Clip:
        """insert_clip's statements, inside the caller's transaction (an import batch inserts its clips in one)."""
        audio, labels = clip.audio, clip.labels
        cursor = sql.execute(
            "INSERT INTO clips (collection, content_sha256, source, duration, sample_rate, channels,"
            " audio_format, speaker, sound_class, state, request_id, segment_count, created_at, updated_at,"
            f" speech_seconds) VALUES ({_marks(15)})",
            (clip.collection, clip.content_sha256, clip.source, audio.duration_seconds, audio.sample_rate,
             audio.channels, audio.format, labels.speaker, labels.sound_class, domain.ClipState.PENDING.value,
             request_id or None, clip.segment_count, _time_to_db(now), _time_to_db(now),
             audio.speech_seconds),
        )  # fmt: skip
        clip_id = cursor.lastrowid
        for ordinal, tag in enumerate(labels.tags):
            sql.execute("INSERT INTO clip_tags (clip_id, ordinal, tag) VALUES (?, ?, ?)", (clip_id, ordinal, tag))
        return dataclasses.replace(
            clip, id=clip_id, state=domain.ClipState.PENDING, create_time=now, update_time=now, audio_kept=False
        )

    def _select_clips(self, sql: _Sql, where: str, params: Sequence) -> list[domain.Clip]:
        rows = sql.execute(f"SELECT {_CLIP_COLUMNS} FROM clips WHERE {where}", params).fetchall()
        tags: dict[int, list[str]] = {row[0]: [] for row in rows}
        for ids in _chunks(list(tags)):
            for clip_id, tag in sql.execute(
                f"SELECT clip_id, tag FROM clip_tags WHERE clip_id IN ({_marks(len(ids))}) ORDER BY clip_id, ordinal",
                ids,
            ).fetchall():
                tags[clip_id].append(tag)
        return [_clip_from_row(row, tuple(tags[row[0]])) for row in rows]

    def get_clips(self, ids: Sequence[int]) -> dict[int, domain.Clip]:
        """The stored clips among `ids`, by id."""

        def work(sql: _Sql) -> list[domain.Clip]:
            found = []
            for chunk in _chunks(list(dict.fromkeys(ids))):
                found += self._select_clips(sql, f"id IN ({_marks(len(chunk))})", chunk)
            return found

        return {clip.id: clip for clip in self._transaction(work)}

    def find_clip_by_content(self, collection: str, content_sha256: str) -> domain.Clip | None:
        return self._find_clip("collection = ? AND content_sha256 = ?", (collection, content_sha256))

    def find_clip_by_request(self, collection: str, request_id: str) -> domain.Clip | None:
        return self._find_clip("collection = ? AND request_id = ?", (collection, request_id))

    def _find_clip(self, where: str, params: Sequence) -> domain.Clip | None:
        found = self._transaction(lambda sql: self._select_clips(sql, where, params))
        return found[0] if found else None

    def list_clips(
        self,
        collection: str,
        after_id: int,
        limit: int,
        search_filter: domain.SearchFilter,
        state: domain.ClipState | None,
    ) -> list[domain.Clip]:
        """Clips of the collection ordered by id, starting after `after_id`, that match every set filter field."""
        conditions, params = ["collection = ?", "id > ?"], [collection, after_id]
        if state is not None:
            conditions.append("state = ?")
            params.append(state.value)
        if search_filter.speakers:
            conditions.append(f"speaker IN ({_marks(len(search_filter.speakers))})")
            params += search_filter.speakers
        if search_filter.sound_classes:
            conditions.append(f"sound_class IN ({_marks(len(search_filter.sound_classes))})")
            params += search_filter.sound_classes
        if search_filter.tags_any:
            conditions.append(
                "EXISTS (SELECT 1 FROM clip_tags WHERE clip_tags.clip_id = clips.id"
                f" AND clip_tags.tag IN ({_marks(len(search_filter.tags_any))}))"
            )
            params += search_filter.tags_any
        if search_filter.min_duration_seconds > 0:
            conditions.append("duration >= ?")
            params.append(search_filter.min_duration_seconds)
        if search_filter.max_duration_seconds > 0:
            conditions.append("duration <= ?")
            params.append(search_filter.max_duration_seconds)
        where = " AND ".join(conditions) + " ORDER BY id LIMIT ?"
        return self._transaction(lambda sql: self._select_clips(sql, where, [*params, limit]))

    def update_clip(
        self,
        clip_id: int,
        state: domain.ClipState,
        audio: domain.AudioInfo | None,
        segment_count: int | None,
    ) -> domain.Clip | None:
        """Set the state, and the audio facts and segment count when given; the updated clip, or None if absent."""
        assignments = ["state = ?", "updated_at = ?"]
        params: list[object] = [state.value, _time_to_db(_now())]
        if audio is not None:
            assignments.append("duration = ?, sample_rate = ?, channels = ?, audio_format = ?, speech_seconds = ?")
            params += [audio.duration_seconds, audio.sample_rate, audio.channels, audio.format, audio.speech_seconds]
        if segment_count is not None:
            assignments.append("segment_count = ?")
            params.append(segment_count)

        def work(sql: _Sql) -> list[domain.Clip]:
            sql.execute(f"UPDATE clips SET {', '.join(assignments)} WHERE id = ?", [*params, clip_id])
            return self._select_clips(sql, "id = ?", (clip_id,))

        updated = self._transaction(work)
        return updated[0] if updated else None

    def delete_clip(self, clip_id: int) -> bool:
        """Delete the clip (and by cascade its tags); False if it did not exist."""
        return self._transaction(lambda sql: sql.execute("DELETE FROM clips WHERE id = ?", (clip_id,)).rowcount > 0)

    def mark_audio_kept(self, clip_ids: Sequence[int]) -> dict[int, domain.Clip]:
        """Record, in one transaction, that the clips' bytes are kept; the clips by id, without the absent ones."""
        now = _time_to_db(_now())

        def work(sql: _Sql) -> list[domain.Clip]:
            updated = []
            for chunk in _chunks(list(dict.fromkeys(clip_ids))):
                marks = _marks(len(chunk))
                sql.execute(f"UPDATE clips SET audio_kept = 1, updated_at = ? WHERE id IN ({marks})", (now, *chunk))
                updated += self._select_clips(sql, f"id IN ({marks})", chunk)
            return updated

        return {clip.id: clip for clip in self._transaction(work)}

    def kept_audio_hashes(self, collection: str) -> list[str]:
        """The content hashes of the collection's clips whose bytes are kept, each once."""
        rows = self._transaction(
            lambda sql: sql.execute(
                "SELECT DISTINCT content_sha256 FROM clips WHERE collection = ? AND audio_kept = 1", (collection,)
            ).fetchall()
        )
        return [row[0] for row in rows]

    def referenced_hashes(self, hashes: Sequence[str]) -> set[str]:
        """Those of `hashes` that some clip, in any collection, keeps the bytes of."""

        def work(sql: _Sql) -> set[str]:
            found: set[str] = set()
            for chunk in _chunks(list(dict.fromkeys(hashes))):
                found |= {
                    row[0]
                    for row in sql.execute(
                        f"SELECT DISTINCT content_sha256 FROM clips WHERE content_sha256 IN ({_marks(len(chunk))})"
                        " AND audio_kept = 1",
                        chunk,
                    ).fetchall()
                }
            return found

        return self._transaction(work)

    def count_clips(self, collection: str) -> dict[domain.ClipState, int]:
        rows = self._transaction(
            lambda sql: sql.execute(
                "SELECT state, COUNT(*) FROM clips WHERE collection = ? GROUP BY state", (collection,)
            ).fetchall()
        )
        return {domain.ClipState(state): count for state, count in rows}


def _open_sqlite(url: str) -> MetadataStore:
    # sqlite:///relative/path (from the working directory) or sqlite:////absolute/path, as in SQLAlchemy.
    path = url.removeprefix("sqlite:///")
    if not path or path == url:
        raise SettingsError(f"database_url {url!r} names no file; use sqlite:///data/metadata.db")
    return MetadataStore(_SqliteConnections(Path(path)), _sqlite_dialect(), f"sqlite file {path}")


def _open_mysql(url: str) -> MetadataStore:
    try:
        import pymysql
    except ImportError:
        raise SettingsError(
            "database_url is a mysql:// URL but PyMySQL is not installed; install it with"
            " pip install 'audiosearch[metadata]', or use a sqlite:/// URL"
        ) from None
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if not parts.hostname or not _DATABASE_NAME.match(database):
        raise SettingsError(
            "database_url must look like mysql://user:password@host:3306/database"
            " (database: 1-64 letters, digits or underscores)"
        )
    user = unquote(parts.username or "root")
    dialect = _mysql_dialect(pymysql)
    params = {
        "host": parts.hostname,
        "port": parts.port or 3306,
        "user": user,
        "password": unquote(parts.password or ""),
        "database": database,
        "charset": "utf8mb4",
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "read_timeout": READ_TIMEOUT_SECONDS,
        "write_timeout": READ_TIMEOUT_SECONDS,
        "init_command": f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT_SECONDS}",
    }
    # The location names the server and never the password: it appears in errors and logs.
    location = f"mysql://{user}@{parts.hostname}:{params['port']}/{database}"
    return MetadataStore(_MysqlConnections(pymysql, params, dialect.unavailable), dialect, location)


def open_store(url: str) -> MetadataStore:
    """Connect to the database named by `url`, creating it and its schema as needed.

    Raises SettingsError for a malformed URL or a missing driver, errors.Unavailable when it cannot be reached.
    """
    if url.startswith("sqlite:"):
        store = _open_sqlite(url)
    elif url.startswith("mysql://"):
        store = _open_mysql(url)
    else:
        raise SettingsError(f"database_url must start with sqlite:/// or mysql://, not {url.split(':', 1)[0]!r}")
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
