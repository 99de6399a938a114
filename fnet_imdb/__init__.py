"""Plumbing of the FNet IMDb tutorial, one job per module."""

MODEL_KINDS = ("fnet", "transformer")
MODEL_NAMES = {"fnet": "FNet", "transformer": "Transformer"}
