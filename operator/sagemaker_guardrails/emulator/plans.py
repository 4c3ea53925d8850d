"""Timelines of endpoint operations, as pure functions of the fleets, the policy and the settings.

A plan is a list of phases. Each phase says how long it lasts (simulated seconds), which EndpointStatus
it shows, and what DescribeEndpoint shows for the live variants (top-level ``ProductionVariants``) and for
the new fleet (``PendingDeploymentSummary``), including the documented ``VariantStatus`` messages. The
engine walks the phases on the simulated clock; nothing here has state or does I/O.

The blue/green shape (spec 3.0-3.3): provision the whole green fleet, then one or more traffic steps,
each an activation followed by a bake, then terminate blue. ALL_AT_ONCE has one step, CANARY two, LINEAR
``ceil(N/S)``. Every non-final step bakes for W; the final step bakes for T (or W then T, setting Q1).
Rolling (3.4) goes batch by batch: launch B, activate, bake W, terminate a batch of the old fleet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sagemaker_guardrails.emulator.settings import EmulatorSettings

Mode = Literal["DEFAULT", "ALL_AT_ONCE", "CANARY", "LINEAR", "ROLLING"]
ACCEPTED = "Accepted"
StatusEntry = tuple[str, str]
WAIT = "WaitIntervalInSeconds"
TERMINATION_WAIT = "TerminationWaitInSeconds"


@dataclass(frozen=True)
class Fleet:
    """One production variant of one endpoint config, resolved against its model."""

    name: str
    model_name: str
    instance_type: str | None
    count: int
    weight: float
    serverless: Mapping[str, Any] | None = None
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariantView:
    """What DescribeEndpoint shows for one variant during a phase."""

    fleet: Fleet
    current_count: int
    current_weight: float
    status: tuple[StatusEntry, ...] = ()
    ramp_from: int | None = None  # the count grows from ramp_from to current_count over the phase

    def count_at(self, fraction: float) -> int:
        if self.ramp_from is None:
            return self.current_count
        span = self.current_count - self.ramp_from
        return self.ramp_from + math.floor(span * min(max(fraction, 0.0), 1.0))


@dataclass(frozen=True)
class Phase:
    name: str  # Creating Provisioning ActivatingTraffic Baking Terminating RollingBack Scaling Deleting
    label: str
    duration: float
    status: str
    live: tuple[VariantView, ...]
    pending: tuple[VariantView, ...] | None = None
    bake: bool = False
    provisions: bool = False
    step: int = 0
    steps: int = 0
    traffic: float = 0.0  # estimated share of traffic on the new fleet, in percent


@dataclass(frozen=True)
class Policy:
    """A DeploymentConfig after validation, with capacity sizes turned into instance counts per variant."""

    mode: Mode
    wait: float = 0.0
    termination_wait: float = 0.0
    sizes: Mapping[str, int] = field(default_factory=dict)
    rollback_sizes: Mapping[str, int] = field(default_factory=dict)
    alarms: tuple[str, ...] = ()
    timeout: float | None = None
    note: str | None = None


def _secs(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def launching(fleet: Fleet, count: int) -> StatusEntry:
    if fleet.serverless is not None:
        return ("Creating", "Launching serverless capacity.")
    return ("Creating", f"Launching {count} instance(s).")


def terminating(count: int) -> StatusEntry:
    return ("Deleting", f"Terminating {count} instance(s).")


def activating(kind: str, count: int) -> StatusEntry:
    return ("ActivatingTraffic", f"Activating traffic on {kind} capacity of {count} instance(s).")


def baking(seconds: float, source: str, kind: str, count: int) -> StatusEntry:
    text = f"Baking for {_secs(seconds)} seconds ({source}) with traffic enabled on {kind} capacity of {count} instance(s)."
    return ("Baking", text)


def provision_seconds(settings: EmulatorSettings, instances: int) -> float:
    return settings.provisioning_base_seconds + settings.provisioning_seconds_per_instance * instances


def live_views(states: tuple[Any, ...], status: tuple[StatusEntry, ...] = ()) -> tuple[VariantView, ...]:
    """Views of ``store.VariantState`` objects (typed loosely to keep this module free of the store)."""
    return tuple(VariantView(s.fleet, s.current_count, s.current_weight, status) for s in states)


def plan_accepted(blue: tuple[Any, ...], settings: EmulatorSettings) -> Phase:
    """The first seconds after UpdateEndpoint (spec 13): Updating, but no deployment shown yet.

    Real endpoints answer ``Updating`` with no ``PendingDeploymentSummary`` and no ``VariantStatus``
    right after the call; the deployment's ``StartTime`` is about 3 s later.
    """
    return Phase(
        ACCEPTED,
        "update accepted: no deployment summary yet",
        settings.update_summary_delay_seconds,
        "Updating",
        live_views(blue),
    )


def plan_create(green: tuple[Fleet, ...], settings: EmulatorSettings) -> list[Phase]:
    pending = tuple(VariantView(f, f.count, 0.0, (launching(f, f.count),), ramp_from=0) for f in green)
    size = max(f.count for f in green)
    duration = provision_seconds(settings, size)
    return [Phase("Creating", "launch the fleet", duration, "Creating", (), pending, provisions=True)]


def _step_counts(green: tuple[Fleet, ...], policy: Policy) -> list[dict[str, int]]:
    full = {f.name: f.count for f in green}
    if policy.mode == "CANARY":
        return [{n: min(policy.sizes[n], c) for n, c in full.items()}, full]
    if policy.mode == "LINEAR":
        steps = max(math.ceil(c / policy.sizes[n]) for n, c in full.items())
        return [{n: min(k * policy.sizes[n], c) for n, c in full.items()} for k in range(1, steps + 1)]
    return [full]


def _final_bakes(policy: Policy, settings: EmulatorSettings) -> list[tuple[float, str]]:
    if policy.mode == "DEFAULT":
        return []
    reading = settings.all_at_once_bake if policy.mode == "ALL_AT_ONCE" else settings.final_bake
    if reading == "wait-interval-then-termination-wait":
        return [(policy.wait, WAIT), (policy.termination_wait, TERMINATION_WAIT)]
    return [(policy.termination_wait, TERMINATION_WAIT)]


def _traffic(
    policy: Policy, counts: Mapping[str, int], green: tuple[Fleet, ...], old: int, settings: EmulatorSettings
) -> float:
    new, full = sum(counts.values()), sum(f.count for f in green)
    if full == 0 or new >= full:
        return 100.0
    if policy.mode == "CANARY" and settings.canary_traffic == "added":
        return round(100.0 * new / (new + old), 1)
    return round(100.0 * new / full, 1)


def plan_blue_green(
    blue: tuple[Any, ...], green: tuple[Fleet, ...], policy: Policy, settings: EmulatorSettings
) -> list[Phase]:
    """``blue`` holds the live ``VariantState`` objects; ``green`` the fleets of the new config.

    Once all traffic is on the new fleet (final bake, termination) the old variant reports
    ``CurrentInstanceCount: 0`` with its ``DesiredInstanceCount`` unchanged (spec 13).
    """
    live = live_views(blue)
    drained = tuple(VariantView(s.fleet, 0, s.current_weight) for s in blue)
    old = sum(s.current_count for s in blue)
    steps = _step_counts(green, policy)
    n = len(steps)
    pending = tuple(VariantView(f, f.count, 0.0, (launching(f, f.count),), ramp_from=0) for f in green)
    size = max(f.count for f in green)
    phases = [
        Phase(
            "Provisioning",
            "launch the new fleet",
            provision_seconds(settings, size),
            "Updating",
            live,
            pending,
            provisions=True,
            steps=n,
        )
    ]
    for k, counts in enumerate(steps, start=1):
        full = all(counts[f.name] >= f.count for f in green)
        kind = "full" if full else ("canary" if policy.mode == "CANARY" else "linear")
        total = sum(counts.values())
        traffic = _traffic(policy, counts, green, old, settings)

        def shown(f: Fleet, counts: Mapping[str, int] = counts) -> int:
            return f.count if settings.pending_instance_count == "provisioned" else counts[f.name]

        activation = tuple(
            VariantView(f, shown(f), f.weight, (activating(kind, counts[f.name]),)) for f in green
        )
        phases.append(
            Phase(
                "ActivatingTraffic",
                f"step {k}/{n}: activate {kind} capacity",
                settings.activation_seconds,
                "Updating",
                live,
                activation,
                step=k,
                steps=n,
                traffic=traffic,
            )
        )
        final = k == n
        bakes = _final_bakes(policy, settings) if final else [(policy.wait, WAIT)]
        for seconds, source in bakes:
            views = tuple(
                VariantView(f, shown(f), f.weight, (baking(seconds, source, kind, counts[f.name]),))
                for f in green
            )
            label = f"step {k}/{n}: bake {_secs(seconds)}s ({source}) on {total} instance(s)"
            phases.append(
                Phase(
                    "Baking",
                    label,
                    seconds,
                    "Updating",
                    drained if final else live,
                    views,
                    bake=True,
                    step=k,
                    steps=n,
                    traffic=traffic,
                )
            )
    done = tuple(VariantView(f, f.count, f.weight) for f in green)
    ending = tuple(VariantView(s.fleet, 0, s.current_weight, (terminating(s.current_count),)) for s in blue)
    phases.append(
        Phase(
            "Terminating",
            "terminate the old fleet",
            settings.termination_seconds,
            "Updating",
            ending,
            done,
            step=n,
            steps=n,
            traffic=100.0,
        )
    )
    return phases


def plan_rolling(
    blue: tuple[Any, ...], green: tuple[Fleet, ...], policy: Policy, settings: EmulatorSettings
) -> list[Phase]:
    """Rolling is single-variant by rule (validated before this is called)."""
    b, g = blue[0], green[0]
    size, target = policy.sizes[g.name], g.count
    old, new = b.current_count, 0
    batches = math.ceil(target / size)
    phases: list[Phase] = []

    def pct(new_count: int, old_count: int) -> float:
        return round(100.0 * new_count / max(new_count + old_count, 1), 1)

    for k in range(1, batches + 1):
        add = min(size, target - new)
        live = (VariantView(b.fleet, old, b.current_weight),)
        launch = VariantView(g, new + add, g.weight if new else 0.0, (launching(g, add),), ramp_from=new)
        phases.append(
            Phase(
                "Provisioning",
                f"batch {k}/{batches}: launch {add} instance(s)",
                provision_seconds(settings, add),
                "Updating",
                live,
                (launch,),
                provisions=True,
                step=k,
                steps=batches,
                traffic=pct(new, old),
            )
        )
        shift = VariantView(g, new + add, g.weight, (activating("batch", add),))
        phases.append(
            Phase(
                "ActivatingTraffic",
                f"batch {k}/{batches}: activate",
                settings.activation_seconds,
                "Updating",
                live,
                (shift,),
                step=k,
                steps=batches,
                traffic=pct(new + add, old),
            )
        )
        bake = VariantView(g, new + add, g.weight, (baking(policy.wait, WAIT, "batch", new + add),))
        phases.append(
            Phase(
                "Baking",
                f"batch {k}/{batches}: bake {_secs(policy.wait)}s",
                policy.wait,
                "Updating",
                live,
                (bake,),
                bake=True,
                step=k,
                steps=batches,
                traffic=pct(new + add, old),
            )
        )
        new += add
        remove = old if k == batches else min(size, old)
        if remove:
            ending = (VariantView(b.fleet, old, b.current_weight, (terminating(remove),)),)
            phases.append(
                Phase(
                    "Terminating",
                    f"batch {k}/{batches}: terminate {remove} old instance(s)",
                    settings.termination_seconds,
                    "Updating",
                    ending,
                    (VariantView(g, new, g.weight),),
                    step=k,
                    steps=batches,
                    traffic=pct(new, old - remove),
                )
            )
            old -= remove
    return phases


def total_bake_seconds(phases: list[Phase]) -> float:
    return sum(p.duration for p in phases if p.bake)
