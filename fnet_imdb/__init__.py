"""Plumbing of the FNet IMDb tutorial, one job per module."""

MODEL_KINDS = ("fnet", "transformer")
MODEL_NAMES = {"fnet": "FNet", "transformer": "Transformer"}
# FNetEncoder and PositionEmbedding drop the padding mask by design: Keras's
# warning about it, matched by this, is silenced in our commands.
MASK_WARNING = ".*does not support masking.*"
