"""FNet's Fourier mixing from half the spectrum, and saving it as keras-hub's."""

import keras
import keras_hub
from keras import ops

# The sublayers that `HalfSpectrumFNetEncoder.call` reads: FNetEncoder keeps
# them private and has no hook for another mixing (tested: a keras-hub release
# that renames them fails `test_layers.py` with their names).
FNET_SUBLAYERS = ("_mixing_layer_norm", "_intermediate_dense", "_output_dense")
FNET_SUBLAYERS += ("_output_dropout", "_output_layer_norm")
# FNetEncoder mixes tokens with Re(FFT2(x)) through a complex FFT of the whole
# input, and autodiff then runs an inverse complex FFT. Keras has no real-input
# 2-D FFT (its 1-D `rfft` plus `fft` over the other axis, with transposes, was
# slower with TensorFlow), so `real_fft2` calls the backend's own.
BACKENDS = ("tensorflow", "jax", "torch")


def real_fft2(x):
    """Re(FFT2(x)) over the last two axes of a real x, from half its spectrum
    (a backend of `BACKENDS`).

    For a real input Re Y[m, k] = Re Y[-m, -k] (indices modulo the axis sizes):
    the real-input FFT's first width // 2 + 1 columns give the others.
    """
    if keras.backend.backend() == "jax":
        import jax.numpy as jnp

        half = jnp.real(jnp.fft.rfft2(x))
    elif keras.backend.backend() == "torch":
        import torch

        half = torch.fft.rfft2(ops.convert_to_tensor(x)).real
    else:
        import tensorflow as tf

        half = tf.math.real(tf.signal.rfft2d(x))
    rows_negated = ops.concatenate(
        [half[..., :1, :], ops.flip(half[..., 1:, :], axis=-2)], axis=-2
    )
    columns = ops.flip(rows_negated[..., 1 : (ops.shape(x)[-1] + 1) // 2], axis=-1)
    return ops.concatenate([half, columns], axis=-1)


@ops.custom_gradient
def fourier_mixing(x):
    """`real_fft2`, whose gradient is the same transform: Re(FFT2) is linear and
    its own transpose (the DFT matrix is symmetric)."""

    def gradient(*args, upstream=None):
        return real_fft2(args[0] if upstream is None else upstream)

    return real_fft2(x), gradient


@keras.saving.register_keras_serializable(package="fnet_imdb")
class HalfSpectrumFNetEncoder(keras_hub.layers.FNetEncoder):
    """keras-hub's `FNetEncoder` with the same weights and math, mixing by
    `fourier_mixing` (on `BACKENDS`; others use FNetEncoder's own).

    `as_keras_hub_fnet` turns a model of these into one of plain FNetEncoders.
    """

    def call(self, inputs, training=None):
        if keras.backend.backend() not in BACKENDS:
            return super().call(inputs, training=training)
        # FNetEncoder.call with another mixing: it has no hook for one.
        mixed = fourier_mixing(ops.cast(inputs, "float32"))  # As FNetEncoder.
        mixed = self._mixing_layer_norm(inputs + ops.cast(mixed, inputs.dtype))
        x = self._output_dense(self._intermediate_dense(mixed))
        x = self._output_dropout(x, training=training)
        return self._output_layer_norm(mixed + x)


def as_keras_hub_fnet(model):
    """`model` with every `HalfSpectrumFNetEncoder` replaced by keras-hub's
    `FNetEncoder`, same weights: the same function, loadable without us."""

    def plain(layer):
        if isinstance(layer, HalfSpectrumFNetEncoder):
            return keras_hub.layers.FNetEncoder.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    if not any(isinstance(layer, HalfSpectrumFNetEncoder) for layer in model.layers):
        return model
    clone = keras.models.clone_model(model, clone_function=plain)
    clone.set_weights(model.get_weights())
    return clone
