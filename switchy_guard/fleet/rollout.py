"""The rollout: canary first, then waves, a few targets at once, a failure budget.

The targets arrive sorted by name, so the waves (and the shards) are the same on every
run and every machine. ``--canary N``: the first N targets run alone first and must all
succeed, else nothing more starts. ``--waves 10%,50%,100%``: cumulative shares of the
whole fleet (canary included); each wave starts once the one before has finished.
Within a wave ``--concurrency K`` targets run at once, each in its own thread with its
own engine. After ``--max-failures F`` failures (default 1) no new target starts; the
running ones finish; the rest are reported as skipped. ``--continue-on-error`` lifts the
budget (a failing canary still stops the rollout).
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchy_guard.errors import ConfigError
from switchy_guard.fleet.targets import Target

#: Outcomes that count against the failure budget.
FAILED = frozenset(("failed", "refused"))


@dataclass
class TargetResult:
    """What became of one target."""

    name: str
    outcome: str  # applied, rolled back, up to date, planned, failed, refused, skipped...
    wave: str = ""
    done: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    reason: str | None = None
    seconds: float = 0.0
    environment: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Whether it counts against the failure budget."""
        return self.outcome in FAILED

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a target's result."""
        data: dict[str, Any] = {
            "target": self.name, "result": self.outcome, "wave": self.wave,
            "done": self.done, "pending": self.pending, "reason": self.reason,
            "seconds": round(self.seconds, 3), "environment": self.environment,
        }
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class Wave:
    """A named group of targets run together."""

    label: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class RolloutOptions:
    """How the rollout proceeds (see the module docs)."""

    canary: int = 0
    waves: tuple[float, ...] = (100.0,)
    concurrency: int = 1
    max_failures: int = 1
    continue_on_error: bool = False


class Reporter(Protocol):
    """Told of each target's start and end (called from the rollout's own thread)."""

    def wave(self, wave: Wave, number: int, total: int) -> None: ...
    def start(self, target: Target, wave: Wave) -> None: ...
    def end(self, result: TargetResult) -> None: ...


def parse_waves(text: str) -> tuple[float, ...]:
    """``"10%,50%,100%"`` as (10.0, 50.0, 100.0): increasing, the last 100%."""
    shares: list[float] = []
    for part in text.split(","):
        number = part.strip().removesuffix("%").strip()
        try:
            share = float(number)
        except ValueError:
            raise ConfigError(f"--waves {text!r}: {part.strip()!r} is not a percentage") from None
        if not 0 < share <= 100:
            raise ConfigError(f"--waves {text!r}: each share must be above 0% and at most 100%")
        if shares and share <= shares[-1]:
            raise ConfigError(f"--waves {text!r}: the shares must increase (they are "
                              "cumulative shares of the fleet)")
        shares.append(share)
    if not shares or shares[-1] != 100:
        raise ConfigError(f"--waves {text!r}: the last wave must be 100% (the whole fleet)")
    return tuple(shares)


def plan_waves(targets: Sequence[Target], canary: int, shares: Sequence[float]) -> list[Wave]:
    """The waves, in order: the canary (the first ``canary`` targets), then each share's
    targets not yet in an earlier wave; empty waves are left out."""
    waves = []
    start = min(canary, len(targets))
    if start:
        waves.append(Wave("canary", tuple(targets[:start])))
    for number, share in enumerate(shares, 1):
        end = max(start, math.ceil(len(targets) * share / 100))
        if end > start:
            waves.append(Wave(f"wave {number} ({share:g}%)", tuple(targets[start:end])))
        start = end
    return waves


def run_rollout(waves: Sequence[Wave], work: Callable[[Target, Wave], TargetResult],
                options: RolloutOptions, reporter: Reporter,
                skip: Mapping[str, str] | None = None) -> list[TargetResult]:
    """Run ``work`` on every target of ``waves`` (see the module docs); the results in
    the order the targets were given. ``skip``: targets never started (name -> why)."""
    skip = skip or {}
    results: dict[str, TargetResult] = {}
    failures = 0
    stopped: str | None = None
    for number, wave in enumerate(waves, 1):
        if stopped is not None:
            for target in wave.targets:
                results[target.name] = skipped(target, wave, stopped)
                reporter.end(results[target.name])
            continue
        reporter.wave(wave, number, len(waves))
        queue = list(wave.targets)
        with ThreadPoolExecutor(max_workers=options.concurrency,
                                thread_name_prefix="fleet") as pool:
            running: dict[Future[TargetResult], Target] = {}
            while queue or running:
                while (queue and len(running) < options.concurrency
                       and not _over_budget(options, failures)):
                    target = queue.pop(0)
                    if target.name in skip:
                        results[target.name] = skipped(target, wave, skip[target.name])
                        reporter.end(results[target.name])
                        continue
                    reporter.start(target, wave)
                    # Each thread runs in a copy of this context: the run's known
                    # secrets are masked there too.
                    context = contextvars.copy_context()
                    running[pool.submit(context.run, work, target, wave)] = target
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    target = running.pop(future)
                    result = future.result()
                    results[target.name] = result
                    failures += result.failed
                    reporter.end(result)
        if _over_budget(options, failures):
            stopped = (f"not started: {failures} failure(s) reached --max-failures "
                       f"{options.max_failures}")
        if wave.label == "canary" and any(results[t.name].failed for t in wave.targets
                                          if t.name in results):
            stopped = "not started: the canary failed"
        for target in queue:
            results[target.name] = skipped(target, wave, stopped or "not started")
            reporter.end(results[target.name])
    return [results[t.name] for wave in waves for t in wave.targets]


def _over_budget(options: RolloutOptions, failures: int) -> bool:
    return not options.continue_on_error and failures >= options.max_failures


def skipped(target: Target, wave: Wave, reason: str) -> TargetResult:
    """The result of a target the rollout did not start."""
    return TargetResult(target.name, "skipped", wave.label, reason=reason)
