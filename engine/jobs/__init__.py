"""File jobs over the engine's public API: read rows, classify them in chunks, write JSON lines.

Not part of the engine core (no I/O there); the CLI's `classify --input` is a thin layer over this.
"""
