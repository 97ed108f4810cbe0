"""Fixtures: a store on real SQLite (a file under tmp_path) and on a real MariaDB server over TCP.

MariaDB is expected at 127.0.0.1:3306 (root, no password). When it cannot be reached the MariaDB half of the tests
is skipped, except under CI=true, where it fails: CI must exercise both backends.
"""

import hashlib
import os
import uuid

import pymysql
import pytest

from audiosearch.runtime import domain
from metadata_service.blobs import FileBlobs
from metadata_service.core import MetadataCore
from metadata_service.store import open_store

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


@pytest.fixture(scope="session")
def mariadb_url():
    """A throwaway database for this test session (the store creates it), dropped afterwards."""
    try:
        pymysql.connect(**MARIADB, connect_timeout=3).close()
    except pymysql.err.OperationalError as error:
        message = f"MariaDB at {MARIADB['host']}:{MARIADB['port']} (root, no password) is not reachable: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}. CI=true: the MySQL store tests must run; start MariaDB before the tests.")
        pytest.skip(message)
    database = f"audiosearch_test_{uuid.uuid4().hex[:12]}"
    yield f"mysql://root@{MARIADB['host']}:{MARIADB['port']}/{database}"
    with pymysql.connect(**MARIADB) as server:
        server.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def mariadb_admin(mariadb_url):
    """A connection to the MariaDB server outside the store, for doing to the store what a server might."""
    with pymysql.connect(**MARIADB, autocommit=True) as connection:
        yield connection


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/metadata.db"
    return request.getfixturevalue("mariadb_url")


@pytest.fixture
def store(database_url):
    """An empty store: the MariaDB database is shared by the session, so whatever a previous test left is removed."""
    opened = open_store(database_url)
    for collection in opened.list_collections("", 100_000):
        opened.delete_collection(collection.name)
    yield opened
    opened.close()


@pytest.fixture
def core(store, tmp_path):
    return MetadataCore(store, FileBlobs(tmp_path / "audio"))


def _sha256_of(seed: object) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest()


def _clip_of(collection: str, seed: object, **fields) -> domain.Clip:
    return domain.Clip(id=0, collection=collection, content_sha256=_sha256_of(seed), **fields)


@pytest.fixture
def clip_of():
    """clip_of(collection, seed, **fields): a new clip whose content hash is derived from seed."""
    return _clip_of
