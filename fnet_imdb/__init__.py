"""Plumbing of the FNet IMDb tutorial, one job per module."""

import warnings

MODEL_KINDS = ("fnet", "transformer")
MODEL_NAMES = {"fnet": "FNet", "transformer": "Transformer"}
# FNetEncoder and PositionEmbedding drop the padding mask by design, and a
# notebook without ipywidgets has no use for tqdm's widgets (keras_hub imports
# tqdm.auto): the warnings about either are noise to our readers.
warnings.filterwarnings("ignore", message=".*does not support masking.*")
warnings.filterwarnings("ignore", message="IProgress not found")
