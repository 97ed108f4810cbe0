"""The console's HTTP/JSON mapping over the real gateway: JSON in and out with proto field names, uploads streamed
to client-streaming RPCs, server streams as NDJSON, gRPC errors as HTTP statuses with the ErrorInfo reason, the
caller's bearer token forwarded, GetClipAudio served as a file with byte ranges, and no server file readable."""

import hashlib
import io
import json

import pytest
import soundfile

from console import healthcheck


@pytest.fixture
def collection(console, collection_name):
    created = console.call("GatewayService/CreateCollection", {"name": collection_name, "model": "logmel"})
    assert created.status == 200, created.body
    yield collection_name
    console.call("GatewayService/DropCollection", {"name": collection_name})


def _ingest(console, collection, path):
    answer = console.upload(
        "GatewayService/IngestAudio", {"collection": collection, "source": path.name}, path.read_bytes()
    )
    assert answer.status == 200, answer.body
    return answer.json()["clip"]


def test_unary_calls_map_json_with_proto_field_names(console, collection):
    listed = console.call("GatewayService/ListCollections", {"page_size": 1000}).json()
    mine = next(c for c in listed["collections"] if c["name"] == collection)
    assert mine["model"] == "logmel" and mine["metric"] == "METRIC_COSINE"
    described = console.request("GET", "v1").json()["methods"]
    assert {"path": "/v1/GatewayService/IngestAudio", "rpc": "/audiosearch.gateway.v1.GatewayService/IngestAudio",
            "client_streaming": True, "server_streaming": False} in described  # fmt: skip


def test_errors_carry_the_http_status_and_the_gateway_reason(console, collection):
    again = console.call("GatewayService/CreateCollection", {"name": collection, "model": "logmel"})
    assert (again.status, again.json()["error"]["status"], again.reason) == (409, "ALREADY_EXISTS", "COLLECTION_EXISTS")
    missing = console.call("GatewayService/GetClip", {"id": "987654321"})
    assert missing.status == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    bad_json = console.call("GatewayService/ListClips", {"page_size": "many"})
    assert (bad_json.status, bad_json.reason) == (400, "BAD_JSON")
    unknown = console.call("GatewayService/Shutdown")
    assert (unknown.status, unknown.reason) == (404, "UNKNOWN_METHOD")
    top_k = console.upload("GatewayService/SearchAudio", {"collection": collection, "top_k": 0}, b"RIFF")
    assert top_k.status == 400 and top_k.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_the_callers_token_is_forwarded_and_none_is_kept(console, collection):
    anonymous = console.call("GatewayService/ListCollections", token=None)
    assert anonymous.status == 401 and anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    reader = console.call("GatewayService/DropCollection", {"name": collection}, token="read")
    assert reader.status == 403 and reader.json()["error"]["status"] == "PERMISSION_DENIED"
    assert console.call("GatewayService/ListCollections", token="read").status == 200
    # A later call without a token is refused again: the console remembered nothing.
    assert console.call("GatewayService/ListCollections", token=None).status == 401


def test_upload_streams_ingest_and_search_by_audio(console, collection, library):
    clips = [_ingest(console, collection, path) for path in sorted((library / "tone").glob("*.wav"))]
    assert all(clip["state"] == "CLIP_STATE_READY" for clip in clips)
    query = (library / "tone" / "tone-0.wav").read_bytes()
    duplicate = console.upload("GatewayService/IngestAudio", {"collection": collection}, query).json()
    assert duplicate["duplicate"] is True and duplicate["clip"]["id"] == clips[0]["id"]
    hits = console.upload("GatewayService/SearchAudio", {"collection": collection, "top_k": 2}, query).json()["hits"]
    assert hits[0]["clip"]["id"] == clips[0]["id"] and hits[0]["score"] > 0.99


def test_a_server_stream_is_ndjson(console, collection, library):
    answer = console.call("GatewayService/ImportDirectory", {"collection": collection, "path": str(library / "chirp")})
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/x-ndjson"
    progress = [json.loads(line) for line in answer.body.splitlines()]
    assert [item["outcome"] for item in progress] == ["OUTCOME_ADDED"] * 3 and progress[-1]["done"] == 3
    outside = console.call("GatewayService/ImportDirectory", {"collection": collection, "path": "/etc"})
    assert outside.status in (400, 403) and outside.json()["error"]["status"] in (
        "INVALID_ARGUMENT",
        "PERMISSION_DENIED",
    )


def test_clip_audio_is_the_uploaded_bytes_with_byte_ranges(console, collection, library):
    uploaded = (library / "white_noise" / "white_noise-1.wav").read_bytes()
    clip = _ingest(console, collection, library / "white_noise" / "white_noise-1.wav")
    path = f"v1/collections/{collection}/clips/{clip['id']}/audio"
    whole = console.request("GET", path)
    assert whole.status == 200 and whole.headers["Content-Type"] == "audio/wav"
    assert hashlib.sha256(whole.body).hexdigest() == clip["content_sha256"] and whole.body == uploaded
    assert whole.headers["Accept-Ranges"] == "bytes" and int(whole.headers["Content-Length"]) == len(uploaded)
    part = console.request("GET", path, headers={"Range": "bytes=100-1099"})
    assert part.status == 206 and part.body == uploaded[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(uploaded)}"
    tail = console.request("GET", path, headers={"Range": "bytes=-10"})
    assert tail.status == 206 and tail.body == uploaded[-10:]
    beyond = console.request("GET", path, headers={"Range": f"bytes={len(uploaded) + 5}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(uploaded)}"
    cut = console.request("GET", path + "?start_seconds=0.5&end_seconds=1.5")
    assert cut.status == 200 and cut.headers["Content-Type"] == "audio/wav"
    samples, rate = soundfile.read(io.BytesIO(cut.body))
    assert abs(len(samples) / rate - 1.0) < 0.01
    wrong = console.request("GET", f"v1/collections/{collection}/clips/{clip['id']}/audio?start_seconds=soon")
    assert (wrong.status, wrong.reason) == (400, "BAD_TIME_RANGE")
    anonymous = console.request("GET", path, token=None)
    assert anonymous.status == 401


@pytest.mark.parametrize(
    "path",
    [
        "static/../config.py",
        "static/%2e%2e/config.py",
        "static/..%2fserver.py",
        "static/%2e%2e/%2e%2e/pyproject.toml",
        "static//etc/passwd",
        "v1/collections/..%2f..%2fetc/clips/1/audio",
        "v1/collections/x/clips/..%2f..%2fetc%2fpasswd/audio",
        "../../etc/passwd",
    ],
)
def test_no_server_file_is_readable(console, path):
    answer = console.request("GET", path)
    assert answer.status in (400, 403, 404), (answer.status, answer.body[:200])
    assert b"root:" not in answer.body and b"[project]" not in answer.body and b"import" not in answer.body


def test_the_page_and_its_assets_are_served_with_a_strict_policy(console):
    page = console.request("GET", "", token=None)
    assert page.status == 200 and b"audiosearch" in page.body
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert console.request("GET", "static/console.js", token=None).status == 200
    assert console.tokens["admin"].encode() not in page.body


def test_writes_from_another_site_and_rebound_host_names_are_refused(console, collection_name):
    """A page elsewhere can make a browser post a form (multipart) to the console, or resolve its own name to
    127.0.0.1: both are refused, so a visited site cannot drop a collection through a local console."""
    own = console.url.rstrip("/")
    create = json.dumps({"name": collection_name, "model": "logmel"}).encode()
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = console.request("POST", "v1/GatewayService/CreateCollection", create, headers)
        assert (refused.status, refused.reason) == (403, "CROSS_ORIGIN"), headers
    rebound = console.request("GET", "", headers={"Host": "evil.example:8080"})
    assert (rebound.status, rebound.reason) == (403, "HOST_NOT_ALLOWED")
    names = {
        c["name"]
        for c in console.call("GatewayService/ListCollections", {"page_size": 1000}).json().get("collections", [])
    }
    assert collection_name not in names  # nothing was created by the refused calls
    same_site = console.request("POST", "v1/GatewayService/CreateCollection", create, {"Origin": own})
    assert same_site.status == 200, same_site.body
    assert console.call("GatewayService/DropCollection", {"name": collection_name}).status == 200


def test_the_container_health_check_reads_healthz(console, monkeypatch):
    port = console.url.rstrip("/").rsplit(":", 1)[1]
    monkeypatch.setenv("AUDIOSEARCH_CONSOLE_LISTEN", f"[::]:{port}")  # as in the image: dialled as localhost
    assert healthcheck.default_url() == f"http://localhost:{port}/healthz"
    assert healthcheck.main([f"{console.url}healthz"]) == 0
    assert healthcheck.main([f"{console.url}no-such-page"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"[" * 100_000,
        b"null",
        b'{"top_k": 1e999}',
        b'{"collection": {"a": 1}}',
        b"{" + b"x" * 5000,
    ],
    ids=["not-utf8", "nested-deep", "null", "huge-number", "wrong-type", "truncated"],
)
def test_a_body_that_is_not_the_request_is_a_400(console, body):
    answer = console.request("POST", "v1/GatewayService/SearchAudio", body, {"Content-Type": "application/json"})
    assert (answer.status, answer.reason) == (400, "BAD_JSON")


def _form(*parts: tuple[str, bytes]) -> tuple[bytes, dict]:
    boundary = "b0undary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + content + b"\r\n"
        for name, content in parts
    )
    return body + f"--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("GatewayService/IngestAudio", [("audio", b"RIFF"), ("request", b"{}")]),  # the options must come first
        ("GatewayService/IngestAudio", [("request", b'{"collection": "x"}')]),  # no file
        ("GatewayService/IngestAudio", [("request", b"not json"), ("audio", b"RIFF")]),
        ("GatewayService/SearchAudio", [("request", b"{}"), ("passwd", b"x")]),  # no such bytes field
        ("GatewayService/SearchAudio", [("request", b"{}"), ("collection", b"x")]),  # a string field, not bytes
    ],
    ids=["audio-first", "no-file", "bad-options", "unknown-part", "non-bytes-part"],
)
def test_a_form_that_is_not_the_request_is_a_400(console, path, parts):
    body, headers = _form(*parts)
    answer = console.request("POST", f"v1/{path}", body, headers)
    assert answer.status == 400 and answer.reason in ("BAD_FORM", "BAD_JSON"), answer.body


def test_an_upload_without_a_form_is_a_400(console):
    answer = console.request("POST", "v1/GatewayService/IngestAudio", b"RIFF", {"Content-Type": "audio/wav"})
    assert (answer.status, answer.reason) == (400, "BAD_FORM")
