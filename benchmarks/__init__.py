"""``make bench``: the facade measured side by side with the layers below it (see run.py)."""
