"""The store's own promises: schema versioning, URL handling, clear errors when the database is out of reach."""

import sqlite3
import sys

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk.errors import FailedPrecondition, SettingsError, Unavailable
from metadata_service.store import SCHEMA_VERSION, open_store


def test_schema_is_versioned_and_reopening_keeps_the_data(database_url, store):
    store.insert_collection(domain.Collection("kept", "m", 4))

    reopened = open_store(database_url)
    try:
        assert reopened.migrate() == SCHEMA_VERSION  # nothing left to migrate
        assert reopened.get_collection("kept").model == "m"
    finally:
        reopened.close()


def test_sqlite_relative_path_is_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///nested/dir/metadata.db").close()

    database = tmp_path / "nested" / "dir" / "metadata.db"
    assert database.is_file()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/metadata.db"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "metadata.db") as connection:
        connection.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(FailedPrecondition, match="newer"):
        open_store(url)


def test_unreachable_mysql_is_unavailable_and_never_shows_the_password():
    with pytest.raises(Unavailable) as raised:
        open_store("mysql://root:s3cret-pass@127.0.0.1:1/metadata")
    assert raised.value.reason == "DATABASE_UNAVAILABLE"
    assert "mysql://root@127.0.0.1:1/metadata" in raised.value.message
    assert "s3cret-pass" not in raised.value.message


def test_unwritable_sqlite_path_is_unavailable(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(Unavailable, match="sqlite"):
        open_store(f"sqlite:///{tmp_path}/a_file/metadata.db")


def test_missing_pymysql_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymysql", None)  # what `import pymysql` sees when it is not installed
    with pytest.raises(SettingsError, match="PyMySQL is not installed"):
        open_store("mysql://root@127.0.0.1:3306/metadata")


@pytest.mark.parametrize(
    "url", ["postgres://db/metadata", "sqlite://", "sqlite:///", "mysql://root@127.0.0.1/bad-name", "mysql:///x"]
)
def test_malformed_url_is_a_settings_error(url):
    with pytest.raises(SettingsError, match="database_url"):
        open_store(url)


def test_mysql_store_reconnects_after_the_server_drops_its_connections(mariadb_url, mariadb_admin):
    store = open_store(mariadb_url)
    try:
        store.insert_collection(domain.Collection("before_restart", "m", 4))
        database = mariadb_url.rsplit("/", 1)[1]
        cursor = mariadb_admin.cursor()
        cursor.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (database,))
        for (connection_id,) in cursor.fetchall():
            cursor.execute("KILL %s", (connection_id,))  # what a server restart does to pooled connections

        assert store.get_collection("before_restart").model == "m"
        store.delete_collection("before_restart")
    finally:
        store.close()
