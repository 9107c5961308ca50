"""Embedded models shipped inside the package (see models/default/zsc.json for provenance)."""
