"""The half-spectrum Fourier mixing against keras-hub's FNetEncoder, on this
backend and on the other of TensorFlow and JAX, and its plain-keras-hub save."""

import os
import subprocess
import sys

import keras
import keras_hub
import numpy as np
import pytest

from conftest import ROOT, build  # Chooses the backend first.
from fnet_imdb import layers


@pytest.mark.parametrize("shape", [(2, 6, 8), (3, 7, 5), (1, 1, 3), (2, 4, 1)])
def test_real_fft2_is_the_real_part_of_the_2d_fft(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    expected = np.real(np.fft.fft2(x))
    np.testing.assert_allclose(np.asarray(layers.real_fft2(x)), expected, atol=1e-4)


def outputs_and_gradients(layer, x, upstream):
    """The layer's output, and the gradients of sum(output * upstream) with
    respect to x and to each trainable weight."""
    if keras.backend.backend() == "jax":
        import jax

        def loss(weights, x):
            y, _ = layer.stateless_call(weights, [], x)
            return (y * upstream).sum(), y

        gradient = jax.grad(loss, argnums=(0, 1), has_aux=True)
        (weights, x_gradient), y = gradient(
            [v.value for v in layer.trainable_variables], x
        )
        return [np.asarray(t) for t in (y, x_gradient, *weights)]
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * upstream)
    gradients = tape.gradient(loss, [x, *layer.trainable_variables])
    return [t.numpy() for t in (y, *gradients)]


@pytest.mark.parametrize("length, width", [(16, 8), (9, 7)])
def test_half_spectrum_encoder_matches_keras_hubs(length, width):
    """Same weights, same outputs and same gradients as FNetEncoder."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, length, width)).astype("float32")
    upstream = rng.standard_normal(x.shape).astype("float32")
    ours = layers.HalfSpectrumFNetEncoder(intermediate_dim=32)
    theirs = keras_hub.layers.FNetEncoder(intermediate_dim=32)
    for layer in (ours, theirs):
        layer.build(x.shape)
    theirs.set_weights(ours.get_weights())
    computed = [outputs_and_gradients(layer, x, upstream) for layer in (ours, theirs)]
    for mine, reference in zip(*computed):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(
    os.environ.get("FNET_IMDB_OTHER_BACKEND") == "1", reason="already the other one"
)
def test_half_spectrum_encoder_on_the_other_backend():
    """The two tests above again, in a process on the other backend."""
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", __file__, "-k", "real_fft2 or matches"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": other, "FNET_IMDB_OTHER_BACKEND": "1"},
        timeout=240,
    )
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert b"6 passed" in result.stdout


def test_as_keras_hub_fnet_is_the_same_function_of_plain_layers(tiny_config):
    model = build("fnet", tiny_config)
    plain = layers.as_keras_hub_fnet(model)
    kinds = {type(layer) for layer in plain.layers}
    assert keras_hub.layers.FNetEncoder in kinds
    assert layers.HalfSpectrumFNetEncoder not in kinds
    assert layers.HalfSpectrumFNetEncoder in {type(layer) for layer in model.layers}
    ids = np.random.default_rng(0).integers(1, 300, (4, 64)).astype("int32")
    np.testing.assert_allclose(plain(ids), model(ids), rtol=1e-5, atol=1e-5)
