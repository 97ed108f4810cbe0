"""The console over a real stack: the four services and the console as processes (as `audiosearch up` starts them),
with token auth on the gateway, so every call the console forwards needs the caller's bearer token.

Creating Milvus collections is slow: one stack serves the module, and each test uses its own collection names.
"""

import dataclasses
import itertools
import json
import pathlib
import urllib.error
import urllib.request
import uuid

import pytest

from audiosearch.tools import synth
from audiosearch.tools.launcher import Stack

TOKENS = {"read": "console-read-token", "write": "console-write-token", "admin": "console-admin-token"}


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def reason(self) -> str:
        return self.json()["error"]["details"][0]["reason"]


@dataclasses.dataclass
class Console:
    url: str
    gateway_address: str
    library: pathlib.Path
    auth: bool = True
    tokens: dict[str, str] = dataclasses.field(default_factory=lambda: dict(TOKENS))

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, token="admin"):
        headers = dict(headers or {})
        if token and self.auth:
            headers["Authorization"] = f"Bearer {TOKENS[token]}"
        request = urllib.request.Request(self.url + path.lstrip("/"), data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def call(self, service_method: str, message: dict | None = None, token="admin") -> Answer:
        body = json.dumps(message or {}).encode()
        return self.request("POST", f"v1/{service_method}", body, {"Content-Type": "application/json"}, token)

    def upload(self, service_method: str, request: dict, audio: bytes, token="admin") -> Answer:
        """multipart/form-data: part `request` (JSON), then part `audio` (the file), as the page and curl -F send."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n{json.dumps(request)}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n'
                f"Content-Type: audio/wav\r\n\r\n"
            ).encode()
            + audio
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", f"v1/{service_method}", body, headers, token)


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> pathlib.Path:
    """Synthetic clips by class: library/<class>/<class>-<i>.wav; library/mixed holds a clip and a broken file."""
    root = tmp_path_factory.mktemp("console-library")
    for sound_class in ("tone", "chirp", "white_noise"):
        for i in range(3):
            synth.write_clip(root / sound_class / f"{sound_class}-{i}.wav", synth.generate(sound_class, i), 16000)
    # A folder an import job half fails on: one clip, and one file that is no audio.
    synth.write_clip(root / "mixed" / "siren.wav", synth.generate("siren", 0), 16000)
    (root / "mixed" / "broken.wav").write_bytes(b"RIFF, but no audio follows")
    return root


@pytest.fixture(scope="session")
def console(tmp_path_factory, library) -> Console:
    tokens = ",".join(f"{role}:{token}" for role, token in TOKENS.items())
    with Stack(
        tmp_path_factory.mktemp("console-stack"),
        ports={},
        import_roots=(str(library),),
        extra_env={"AUDIOSEARCH_GATEWAY_AUTH_TOKENS": tokens},
        console=True,
    ) as stack:
        yield Console(stack.console_url, stack.gateway_address, library)


@pytest.fixture(scope="session")
def open_console(tmp_path_factory, library) -> Console:
    """A second stack without token auth: the page's <audio> elements then stream from the console (byte ranges)."""
    with Stack(tmp_path_factory.mktemp("open-console-stack"), ports={}, console=True) as stack:
        yield Console(stack.console_url, stack.gateway_address, library, auth=False)


_names = itertools.count()


@pytest.fixture
def collection_name():
    return f"console_{next(_names)}"
