"""The half-spectrum Fourier mixing against keras-hub's FNetEncoder on this
backend (.ci/run reruns these under each installed backend), and its
plain-keras-hub save."""

import keras
import keras_hub
import numpy as np
import pytest

from conftest import build  # Chooses the backend first.
from fnet_imdb import layers

pytestmark = pytest.mark.backend


def test_every_backend_mixes_from_half_the_spectrum():
    assert keras.backend.backend() in layers.BACKENDS


def test_fnet_encoder_still_has_the_sublayers_its_call_reads():
    """HalfSpectrumFNetEncoder repeats FNetEncoder.call with FNetEncoder's
    private sublayers: a release that renames one fails here, by name."""
    encoder = keras_hub.layers.FNetEncoder(8)
    encoder.build((None, 4, 6))
    missing = [name for name in layers.FNET_SUBLAYERS if not hasattr(encoder, name)]
    assert not missing, f"keras-hub's FNetEncoder no longer has {missing}"


@pytest.mark.parametrize("shape", [(2, 6, 8), (3, 7, 5), (1, 1, 3), (2, 4, 1)])
def test_real_fft2_is_the_real_part_of_the_2d_fft(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    expected = np.real(np.fft.fft2(x))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layers.real_fft2(x)), expected, atol=1e-4
    )


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
    if keras.backend.backend() == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        y = layer(x)
        (y * torch.tensor(upstream)).sum().backward()
        tensors = (y, x.grad, *(v.value.grad for v in layer.trainable_variables))
        return [keras.ops.convert_to_numpy(t) for t in tensors]
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


def test_as_keras_hub_fnet_is_the_same_function_of_plain_layers(tiny_config):
    model = build("fnet", tiny_config)
    plain = layers.as_keras_hub_fnet(model)
    kinds = {type(layer) for layer in plain.layers}
    assert keras_hub.layers.FNetEncoder in kinds
    assert layers.HalfSpectrumFNetEncoder not in kinds
    assert layers.HalfSpectrumFNetEncoder in {type(layer) for layer in model.layers}
    ids = np.random.default_rng(0).integers(1, 300, (4, 64)).astype("int32")
    outputs = [keras.ops.convert_to_numpy(m(ids)) for m in (plain, model)]
    np.testing.assert_allclose(*outputs, rtol=1e-5, atol=1e-5)
