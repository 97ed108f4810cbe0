"""Fixtures shared by every test folder: one local Milvus server per session, for the tests that need a real server.

The server is the `milvus` wheel's standalone binary (audiosearch.tools.milvus_server), started on a free port with its
data in a temporary folder, and stopped (killed if need be) at the end of the session.
"""

import pytest

from milvus_support import require_milvus_server_package


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    require_milvus_server_package()
    from audiosearch.tools.milvus_server import LocalMilvusServer

    with LocalMilvusServer(tmp_path_factory.mktemp("milvus-server"), port=0) as server:
        yield server
