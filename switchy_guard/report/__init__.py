"""Renderers: the same objects printed for people (rich) or machines (JSON)."""
