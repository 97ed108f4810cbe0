"""Reading resemblyzer's GE2E checkpoint without torch, strictly."""

import pickle

import pytest

from embedding_service.models import ge2e_weights
from embedding_service.models.ge2e import Ge2eModel

WEIGHTS = ge2e_weights.default_weights_path()
needs_weights = pytest.mark.skipif(
    WEIGHTS is None or not WEIGHTS.is_file(),
    reason=f"GE2E weights not installed: {ge2e_weights.INSTALL_HINT}",
)


@needs_weights
def test_the_checkpoint_holds_every_parameter_of_the_architecture_with_its_shape():
    weights = ge2e_weights.load_weights(WEIGHTS)
    assert {name: array.shape for name, array in weights.items()} == ge2e_weights.expected_shapes()
    assert all(array.dtype.name == "float32" and array.flags.c_contiguous for array in weights.values())


def _tampered(tmp_path, old: bytes, new: bytes):
    data = WEIGHTS.read_bytes()
    assert old in data and len(old) == len(new)
    path = tmp_path / "pretrained.pt"
    # The first occurrence is in model_state, which the pickle holds before the optimizer state.
    path.write_bytes(data.replace(old, new, 1))
    return path


@needs_weights
def test_a_checkpoint_missing_a_key_is_refused_naming_the_file_and_the_keys(tmp_path):
    path = _tampered(tmp_path, b"lstm.weight_hh_l2", b"lstm.weight_hh_lX")
    with pytest.raises(ge2e_weights.WeightsError) as caught:
        ge2e_weights.load_weights(path)
    message = str(caught.value)
    assert str(path) in message
    assert "missing keys lstm.weight_hh_l2" in message and "unexpected keys lstm.weight_hh_lX" in message
    model = Ge2eModel(path)
    assert not model.available and "missing keys lstm.weight_hh_l2" in model.unavailable_reason


@needs_weights
def test_a_checkpoint_with_a_wrong_shape_is_refused(tmp_path):
    # lstm.weight_ih_l0's size tuple (1024, 40) pickled as BININT2 1024, BININT1 40, TUPLE2; made (1024, 39).
    path = _tampered(tmp_path, b"M\x00\x04K(\x86", b"M\x00\x04K'\x86")
    with pytest.raises(ge2e_weights.WeightsError, match=r"lstm.weight_ih_l0 has shape \(1024, 39\), expected"):
        ge2e_weights.load_weights(path)


@needs_weights
def test_a_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "pretrained.pt"
    path.write_bytes(WEIGHTS.read_bytes()[: 3 * 1024 * 1024])
    with pytest.raises(ge2e_weights.WeightsError, match="cannot read GE2E weights from .*pretrained.pt: it ends"):
        ge2e_weights.load_weights(path)


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    header = b"".join(pickle.dumps(part, protocol=2) for part in (ge2e_weights._LEGACY_MAGIC, 1001, {}))
    marker = tmp_path / "ran"
    path.write_bytes(header + f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    with pytest.raises(ge2e_weights.WeightsError, match="refusing os.system"):
        ge2e_weights.load_weights(path)
    assert not marker.exists()


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "pretrained.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ge2e_weights.WeightsError, match=str(path)):
        ge2e_weights.load_weights(path)
