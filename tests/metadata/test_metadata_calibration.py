"""A collection's purpose and calibration (issue #12's shared contract): stored with the collection, replaced,
removed, and gone with the collection; over the real stores and the real wire."""

import dataclasses
import sqlite3
from datetime import UTC, datetime

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk.errors import InvalidArgument, NotFound
from metadata_service.store import open_store

CALIBRATION = domain.Calibration(
    threshold=0.71,
    target_false_positive_rate=0.01,
    false_positive_rate=0.0098,
    false_negative_rate=0.05,
    equal_error_rate=0.021,
    equal_error_threshold=0.64,
    positive_trials=40,
    negative_trials=4000,
    scoring="asnorm",
    calibrate_time=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
    open_set_threshold=0.83,
    open_set_false_positive_rate=0.0095,
    open_set_trials=400,
)


def test_calibration_is_stored_replaced_and_removed_with_the_collection(core):
    created = core.create_collection(domain.Collection("voices", "ge2e", 256, purpose="SPEAKERS"))
    assert (created.purpose, created.calibration) == ("SPEAKERS", None)

    assert core.set_calibration("voices", CALIBRATION).calibration == CALIBRATION
    assert core.get_collection("voices").calibration == CALIBRATION
    tighter = dataclasses.replace(CALIBRATION, threshold=0.8, target_false_positive_rate=0.001)
    core.set_calibration("voices", tighter)
    listed = {c.name: c for c in core.list_collections()[0]}
    assert listed["voices"].calibration == tighter and listed["voices"].purpose == "SPEAKERS"

    assert core.set_calibration("voices", None).calibration is None
    core.set_calibration("voices", CALIBRATION)
    core.delete_collection("voices")
    core.create_collection(domain.Collection("voices", "ge2e", 256))
    assert core.get_collection("voices").calibration is None  # nothing of the old collection's calibration is left


def test_bad_calibrations_and_unknown_collections_are_refused(core):
    core.create_collection(domain.Collection("voices", "ge2e", 256, purpose="SPEAKERS"))
    for bad in (
        dataclasses.replace(CALIBRATION, threshold=float("nan")),
        dataclasses.replace(CALIBRATION, false_positive_rate=1.5),
        dataclasses.replace(CALIBRATION, target_false_positive_rate=0.0),
        dataclasses.replace(CALIBRATION, negative_trials=0),
        dataclasses.replace(CALIBRATION, scoring=""),
        dataclasses.replace(CALIBRATION, open_set_false_positive_rate=-0.1),
    ):
        with pytest.raises(InvalidArgument) as refused:
            core.set_calibration("voices", bad)
        assert refused.value.reason == "INVALID_CALIBRATION"
    assert core.get_collection("voices").calibration is None
    with pytest.raises(NotFound):
        core.set_calibration("absent", CALIBRATION)
    with pytest.raises(InvalidArgument) as refused:
        core.create_collection(domain.Collection("odd", "ge2e", 256, purpose="KARAOKE"))
    assert refused.value.reason == "INVALID_PURPOSE"


def test_version_1_database_is_migrated_keeping_its_rows(tmp_path):
    path = tmp_path / "metadata.db"
    with sqlite3.connect(path) as connection:  # the schema as version 1 left it, with a row in each table
        connection.executescript(
            """
            CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY);
            INSERT INTO schema_version VALUES (1);
            CREATE TABLE collections (name VARCHAR(64) NOT NULL PRIMARY KEY, model VARCHAR(128) NOT NULL,
                dimension INTEGER NOT NULL, metric VARCHAR(16) NOT NULL, segment_window DOUBLE NOT NULL,
                segment_hop DOUBLE NOT NULL, created_at TEXT NOT NULL);
            INSERT INTO collections VALUES ('old', 'logmel', 4, 'COSINE', 0, 0, '2026-01-01 00:00:00.000000');
            CREATE TABLE clips (id INTEGER PRIMARY KEY AUTOINCREMENT, collection VARCHAR(64) NOT NULL,
                content_sha256 CHAR(64) NOT NULL, source VARCHAR(1024) NOT NULL, duration DOUBLE NOT NULL,
                sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL, audio_format VARCHAR(32) NOT NULL,
                speaker VARCHAR(256) NOT NULL, sound_class VARCHAR(256) NOT NULL, state VARCHAR(16) NOT NULL,
                request_id VARCHAR(128), segment_count INTEGER NOT NULL, created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            INSERT INTO clips VALUES (7, 'old', '"""
            + "a" * 64
            + """', 's', 1.5, 16000, 1, 'WAV', 'ann', '', 'READY', NULL, 1,
                '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000');
            CREATE TABLE clip_tags (clip_id BIGINT NOT NULL, ordinal INTEGER NOT NULL, tag VARCHAR(256) NOT NULL,
                PRIMARY KEY (clip_id, ordinal));
            """
        )
    store = open_store(f"sqlite:///{path}")
    try:
        old = store.get_collection("old")
        assert (old.model, old.purpose, old.calibration) == ("logmel", "", None)
        clip = store.get_clips([7])[7]
        assert (clip.labels.speaker, clip.audio.duration_seconds, clip.audio.speech_seconds) == ("ann", 1.5, 0.0)
    finally:
        store.close()
