"""Fleets: one migration set rolled out across many databases or tenant schemas, in
waves, resumable, sharded across machines (see :mod:`.targets` and :mod:`.rollout`)."""

from switchy_guard.fleet.targets import Target, load_targets_file, shard

__all__ = ["Target", "load_targets_file", "shard"]
