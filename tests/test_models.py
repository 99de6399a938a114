"""The tutorial's models on this backend (.ci/run reruns these under each
installed backend): shapes, exact parameter counts, masking, precision, XLA as
Keras decides it, and saved models that load on every backend."""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import build, compile_model, parse, replace
from fnet_imdb import backend, layers

pytestmark = pytest.mark.backend
KINDS = ["fnet", "transformer"]
# The package that each backend imports.
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
PREDICT_WITH_KERAS_ONLY = """
import sys
if sys.argv[1] != "tensorflow":  # Another backend loads them without it.
    sys.modules["tensorflow"] = sys.modules["tensorflow_text"] = None
import keras, keras_hub, numpy
ids = numpy.load(sys.argv[2])
for path in sys.argv[3:]:
    print(keras.saving.load_model(path).predict(ids, verbose=0)[:, 0].tolist())
"""


@pytest.fixture
def small_config(tiny_config):
    return replace(tiny_config, num_layers=2)


def random_ids(config, batch=4, length=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (batch, length or config.max_seq_len)
    return rng.integers(2, config.vocab_size, size=shape).astype("int32")


@pytest.mark.parametrize("kind", KINDS)
def test_output_is_one_probability_per_review(small_config, kind):
    model = build(kind, small_config)
    probabilities = keras.ops.convert_to_numpy(model(random_ids(small_config, batch=5)))
    assert probabilities.shape == (5, 1)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert model.name == f"{kind}_classifier"


@pytest.mark.parametrize("mixed_precision", [False, True])
@pytest.mark.parametrize(
    "kind, params", [("fnet", 2_382_337), ("transformer", 2_580_481)]
)
def test_exact_parameter_counts_at_recipe_defaults(kind, params, mixed_precision):
    config = parse(["--mixed-precision"] if mixed_precision else [])
    assert build(kind, config).count_params() == params


@pytest.mark.parametrize("kind", KINDS)
def test_mixed_precision_computes_in_bfloat16_with_float32_weights(small_config, kind):
    config = replace(small_config, mixed_precision=True)
    model = build(kind, config)
    encoders = [layer for layer in model.layers if "encoder" in layer.name]
    assert len(encoders) == config.num_layers
    assert {layer.compute_dtype for layer in encoders} == {"bfloat16"}
    assert {weight.dtype for weight in model.weights} == {"float32"}
    probabilities = model(random_ids(config))
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"
    default = build(kind, small_config)
    assert {layer.compute_dtype for layer in default.layers[1:]} == {"float32"}


@pytest.mark.parametrize("kind", KINDS)
def test_xla_on_jax_and_on_tensorflow_off_a_cpu(small_config, kind):
    """Keras's `jit_compile="auto"`: XLA for JAX, and for TensorFlow on a GPU
    or TPU; never for PyTorch, which runs eagerly."""
    model = build(kind, small_config)
    compile_model(model, small_config)
    name = keras.backend.backend()
    on_cpu = backend.training_device()[0] == "cpu"
    assert model.jit_compile is (name == "jax" or name == "tensorflow" and not on_cpu)


def test_unknown_kind_is_a_value_error(small_config):
    with pytest.raises(ValueError, match="bert"):
        build("bert", small_config)


def test_transformer_ignores_padding_and_fnet_does_not(small_config):
    """The pitfall the tutorial explains: FNetEncoder takes no padding mask."""
    ids = random_ids(small_config, batch=2, length=20)
    padded = np.pad(ids, ((0, 0), (0, 30)))  # 30 more [PAD] tokens.
    outputs = {}
    for kind in KINDS:
        model = build(kind, small_config)
        outputs[kind] = [
            keras.ops.convert_to_numpy(model(x, training=False)) for x in (ids, padded)
        ]
    np.testing.assert_allclose(*outputs["transformer"], atol=1e-5)
    assert np.abs(outputs["fnet"][0] - outputs["fnet"][1]).max() > 1e-4


def test_one_model_takes_any_length_up_to_the_maximum(small_config):
    model = build("fnet", small_config)
    for length in (8, 32, small_config.max_seq_len):
        assert keras.ops.convert_to_numpy(
            model(random_ids(small_config, length=length))
        ).shape == (
            4,
            1,
        )


@pytest.mark.parametrize("mixed_precision", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_round_trip(small_config, tmp_path, kind, mixed_precision):
    config = replace(small_config, mixed_precision=mixed_precision)
    model = build(kind, config)
    ids = random_ids(config, batch=3)
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(ids)),
        keras.ops.convert_to_numpy(model(ids)),
        rtol=1e-5,
        atol=1e-6,
    )
    assert restored.count_params() == model.count_params()
    assert [layer.dtype_policy.name for layer in restored.layers] == [
        layer.dtype_policy.name for layer in model.layers
    ]


@pytest.mark.parametrize("other", sorted(PACKAGES))
def test_saved_models_load_on_every_other_backend(small_config, tmp_path, other):
    """Saved here as a run saves them (FNet with plain keras-hub layers),
    loaded by keras and keras_hub alone on `other` in a fresh process, without
    TensorFlow unless `other` is it: the same probabilities."""
    if other == keras.backend.backend():
        pytest.skip("this backend: test_save_and_load_round_trip")
    if importlib.util.find_spec(PACKAGES[other]) is None:
        pytest.skip(
            f"{other} is not installed here (.ci/run has an environment with it)"
        )
    models = {kind: build(kind, small_config) for kind in KINDS}
    ids = random_ids(small_config, batch=3)
    np.save(tmp_path / "ids.npy", ids)
    for kind, model in models.items():
        layers.as_keras_hub_fnet(model).save(tmp_path / f"{kind}.keras")
    paths = [f"{kind}.keras" for kind in KINDS]
    result = subprocess.run(
        [sys.executable, "-c", PREDICT_WITH_KERAS_ONLY, other, "ids.npy", *paths],
        capture_output=True,
        cwd=tmp_path,  # Away from the project: nothing of ours is importable.
        env={**os.environ, "KERAS_BACKEND": other, "PYTHONPATH": ""},
        timeout=240,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    loaded = result.stdout.decode().splitlines()[-len(KINDS) :]
    for line, model in zip(loaded, models.values()):
        expected = np.asarray(model.predict(ids, verbose=0))[:, 0]
        np.testing.assert_allclose(json.loads(line), expected, rtol=1e-5, atol=1e-5)
