"""Fixtures shared by every test folder: one local Milvus server per session, for the tests that need a real server,
and one S3-compatible server (moto_server) for the kept-audio tests.

The server is the `milvus` wheel's standalone binary (audiosearch.tools.milvus_server), started on a free port with its
data in a temporary folder, and stopped (killed if need be) at the end of the session.
"""

import pytest

from milvus_support import require_milvus_server_package
from s3_support import moto_s3


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    require_milvus_server_package()
    from audiosearch.tools.milvus_server import LocalMilvusServer

    with LocalMilvusServer(tmp_path_factory.mktemp("milvus-server"), port=0) as server:
        yield server


@pytest.fixture(scope="session")
def s3():
    """A real S3-compatible server (moto_server) for the session: the S3Credentials that reach it."""
    with moto_s3() as credentials:
        yield credentials
