"""Installing and loading PaddleSpeech weights: archives, folders, download, and every way they can be wrong."""

import functools
import http.server
import pickle
import threading

import numpy as np
import pytest

pytest.importorskip("paddle")

from audiosearch.sdk import errors  # noqa: E402
from embedding_service import models_cli  # noqa: E402
from embedding_service.models import paddlespeech, weights  # noqa: E402

import ps_archives  # noqa: E402

NAME = "panns_cnn6"


@pytest.fixture(scope="module")
def cnn6(tmp_path_factory):
    # Written by paddle.save itself and gzip-compressed as published, so both of those paths are exercised.
    return ps_archives.make_archive(NAME, tmp_path_factory.mktemp("cnn6"), with_paddle=True, compresslevel=6)


def _store(tmp_path, *archives):
    return weights.WeightStore(tmp_path / "models", ps_archives.specs_for(*archives))


def test_import_archive_then_load(cnn6, tmp_path):
    store = _store(tmp_path, cnn6)
    folder = store.import_(NAME, cnn6.path)
    assert sorted(path.name for path in folder.iterdir()) == [
        "audioset_labels.txt",
        "cnn6.pdparams",
        "manifest.json",
        "panns.yaml",
    ]
    [row] = [row for row in store.list_installed() if row.model == NAME]
    assert row.installed and row.archive_md5 == cnn6.md5 and row.size_bytes > 10_000_000
    assert {row.model for row in store.list_installed() if not row.installed} == {
        "ecapa_tdnn",
        "panns_cnn10",
        "panns_cnn14",
    }
    model = paddlespeech.Cnn6Model(store)
    assert model.available, model.unavailable_reason
    # Nothing is left behind but the installed folder.
    assert sorted(path.name for path in store.root.iterdir()) == [NAME]


def test_import_unpacked_folder(cnn6, tmp_path):
    store = _store(tmp_path, cnn6)
    store.import_(NAME, cnn6.folder)
    manifest = store.manifest(NAME)
    assert manifest["archive_md5"] is None and manifest["source"] == str(cnn6.folder)
    assert paddlespeech.Cnn6Model(store).available


def test_models_cli_uses_the_service_model_dir(cnn6, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOSEARCH_EMBEDDING_MODEL_DIR", str(tmp_path / "cache"))
    assert models_cli.store().root == tmp_path / "cache"
    rows = models_cli.list_installed()
    assert [(row.model, row.installed) for row in rows] == [
        ("ecapa_tdnn", False),
        ("panns_cnn14", False),
        ("panns_cnn10", False),
        ("panns_cnn6", False),
    ]
    with pytest.raises(weights.WeightsError, match="published panns_cnn6.tar.gz"):
        models_cli.import_(NAME, cnn6.path)  # the test archive is not the published one


def test_absent_weights_make_the_model_unavailable_with_the_fix(tmp_path):
    model = paddlespeech.Cnn6Model(weights.WeightStore(tmp_path / "empty"))
    assert not model.available
    reason = model.unavailable_reason
    assert "not installed" in reason and str(tmp_path / "empty") in reason
    assert "audiosearch models fetch panns_cnn6" in reason and "audiosearch models import panns_cnn6 PATH" in reason
    with pytest.raises(RuntimeError, match="not available"):
        model.embed_batch([np.zeros(32000, np.float32)])


def test_wrong_md5_is_refused(cnn6, tmp_path):
    cut = ps_archives.corrupt(cnn6.path, tmp_path)
    store = _store(tmp_path, cnn6)
    with pytest.raises(weights.WeightsError) as caught:
        store.import_(NAME, cut)
    assert caught.value.reason == "WEIGHTS_MD5_MISMATCH"
    assert str(cut) in caught.value.message and cnn6.md5 in caught.value.message
    assert "audiosearch models fetch panns_cnn6" in caught.value.message
    assert store.manifest(NAME) is None


def test_published_md5_refuses_a_test_archive(cnn6, tmp_path):
    store = weights.WeightStore(tmp_path / "models")  # the real registry: 4cf09194...
    with pytest.raises(weights.WeightsError, match="4cf09194a95df024fd12f84712cf0f9c"):
        store.import_(NAME, cnn6.path)


def test_corrupted_archive_is_refused(cnn6, tmp_path):
    cut = ps_archives.corrupt(cnn6.path, tmp_path)
    spec = ps_archives.specs_for(cnn6)[NAME]
    # The registry agrees with the file's md5, so the failure is in reading the archive itself.
    store = weights.WeightStore(
        tmp_path / "models", {NAME: type(spec)(**{**spec.__dict__, "md5": weights.md5_of(cut)})}
    )
    with pytest.raises(weights.WeightsError) as caught:
        store.import_(NAME, cut)
    assert caught.value.reason == "WEIGHTS_ARCHIVE" and str(cut) in caught.value.message
    assert store.manifest(NAME) is None


def test_folder_without_the_layout_is_refused(cnn6, tmp_path):
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "panns.yaml").write_text((cnn6.folder / "panns.yaml").read_text())
    with pytest.raises(weights.WeightsError, match="lacks cnn6.pdparams"):
        _store(tmp_path, cnn6).import_(NAME, tmp_path / "partial")


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda state: state.pop("conv_block1.conv1.weight"), "missing keys: conv_block1.conv1.weight"),
        (lambda state: state.update(extra=state["fc1.bias"]), "unexpected keys: extra"),
        (lambda state: state.update({"fc1.bias": state["fc1.bias"][:10]}), "wrong shapes: fc1.bias (10,)"),
    ],
    ids=["missing", "unexpected", "shape"],
)
def test_checkpoint_that_does_not_fit_is_refused(tmp_path, damage, expected):
    state = ps_archives.random_state(NAME)
    damage(state)
    archive = ps_archives.make_archive(NAME, tmp_path, state=state)
    store = _store(tmp_path, archive)
    store.import_(NAME, archive.path)  # the archive itself is fine: the model refuses it at load
    model = paddlespeech.Cnn6Model(store)
    assert not model.available
    assert expected in model.unavailable_reason
    assert str(store.folder(NAME) / "cnn6.pdparams") in model.unavailable_reason
    assert "audiosearch models fetch panns_cnn6" in model.unavailable_reason


def test_ecapa_checkpoint_missing_a_backbone_key_is_refused(tmp_path):
    state = ps_archives.random_state("ecapa_tdnn")
    del state["backbone.fc.conv.weight"]
    archive = ps_archives.make_archive("ecapa_tdnn", tmp_path, state=state)
    store = _store(tmp_path, archive)
    store.import_("ecapa_tdnn", archive.path)
    model = paddlespeech.EcapaTdnnModel(store)
    assert "missing keys: fc.conv.weight" in model.unavailable_reason


def test_weights_changed_after_install_are_refused(cnn6, tmp_path):
    store = _store(tmp_path, cnn6)
    folder = store.import_(NAME, cnn6.path)
    checkpoint = folder / "cnn6.pdparams"
    checkpoint.write_bytes(checkpoint.read_bytes()[:-100])
    model = paddlespeech.Cnn6Model(store)
    assert not model.available and "changed or was cut short" in model.unavailable_reason
    assert str(checkpoint) in model.unavailable_reason


class _Boom:
    def __reduce__(self):
        return (exec, (f"import pathlib; pathlib.Path(r'{_Boom.marker}').write_text('ran')",))


def test_checkpoint_pickle_cannot_run_code(tmp_path):
    _Boom.marker = str(tmp_path / "ran")
    path = tmp_path / "evil.pdparams"
    path.write_bytes(pickle.dumps({"fc1.weight": _Boom()}, protocol=4))
    with pytest.raises(weights.WeightsError, match="builtins.exec is not allowed"):
        weights.read_state_dict(path, "fix it")
    assert not (tmp_path / "ran").exists()


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with Range support, counting the bytes it sends."""

    sent = 0

    def do_GET(self):
        data = (self.directory and open(self.translate_path(self.path), "rb").read()) or b""
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])
        type(self).sent += len(data) - start

    def log_message(self, *args):
        pass


@pytest.fixture()
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    _RangeHandler.sent = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_RangeHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_downloads_resumes_and_installs(cnn6, tmp_path, http_root):
    root, base = http_root
    data = cnn6.path.read_bytes()
    (root / cnn6.path.name).write_bytes(data)
    spec = ps_archives.specs_for(cnn6)[NAME]
    spec = type(spec)(**{**spec.__dict__, "url": f"{base}/{cnn6.path.name}"})
    store = weights.WeightStore(tmp_path / "models", {NAME: spec})
    # A download cut off half way: fetch sends only the rest.
    (store.root / ".downloads").mkdir(parents=True)
    (store.root / ".downloads" / f"{cnn6.path.name}.part").write_bytes(data[: len(data) // 2])
    seen = []
    folder = store.fetch(NAME, progress=lambda done, total: seen.append((done, total)))
    assert _RangeHandler.sent == len(data) - len(data) // 2
    assert seen[-1] == (len(data), len(data))
    assert store.manifest(NAME)["archive_md5"] == cnn6.md5 and folder == store.folder(NAME)
    assert list((store.root / ".downloads").iterdir()) == []


def test_fetch_of_a_wrong_file_is_refused_and_not_kept(cnn6, tmp_path, http_root):
    root, base = http_root
    (root / cnn6.path.name).write_bytes(b"not an archive")
    spec = ps_archives.specs_for(cnn6)[NAME]
    spec = type(spec)(**{**spec.__dict__, "url": f"{base}/{cnn6.path.name}"})
    store = weights.WeightStore(tmp_path / "models", {NAME: spec})
    with pytest.raises(weights.WeightsError, match="WEIGHTS_MD5_MISMATCH|md5"):
        store.fetch(NAME)
    assert list((store.root / ".downloads").iterdir()) == []


def test_fetch_offline_says_what_to_do(tmp_path):
    spec = weights.ARCHIVES[NAME]
    spec = type(spec)(**{**spec.__dict__, "url": "http://127.0.0.1:9/panns_cnn6.tar.gz"})
    store = weights.WeightStore(tmp_path / "models", {NAME: spec})
    with pytest.raises(errors.Unavailable, match="audiosearch models import"):
        store.fetch(NAME, timeout=5)


def test_unknown_model_name():
    with pytest.raises(errors.NotFound, match="known: ecapa_tdnn"):
        weights.WeightStore("/nonexistent").spec("nope")
