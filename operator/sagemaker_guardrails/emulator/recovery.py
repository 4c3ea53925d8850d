"""Plans for the ends of an operation that did not go as planned, and for the small operations.

A blue/green rollback puts all traffic back on the old fleet at once and tears the new fleet down (spec 4).
A rolling rollback relaunches the old instances it already removed, in batches of
``RollbackMaximumBatchSize`` (default: all at once), retiring new instances as it goes; the engine can make
it fail (admin fault) to reach ``UpdateRollbackFailed``. Scaling (UpdateEndpointWeightsAndCapacities) and
deletion are single phases. Like ``plans``, everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemaker_guardrails.emulator.plans import (
    Fleet,
    Phase,
    StatusEntry,
    VariantView,
    launching,
    live_views,
    provision_seconds,
    terminating,
)
from sagemaker_guardrails.emulator.settings import EmulatorSettings


def plan_blue_green_rollback(
    blue: tuple[Any, ...], green: tuple[tuple[Fleet, int], ...], settings: EmulatorSettings
) -> list[Phase]:
    """All traffic back to blue at once, then the green fleet (``(fleet, launched count)``) is torn down."""
    pending = tuple(VariantView(f, n, 0.0, (terminating(n),)) for f, n in green)
    label = "roll back: traffic to the old fleet, new fleet torn down"
    return [
        Phase(
            "RollingBack",
            label,
            settings.rollback_seconds,
            settings.rollback_status,
            live_views(blue),
            pending,
        )
    ]


def plan_rolling_rollback(
    blue: Any, *, old_alive: int, green: Fleet, green_alive: int, batch: int, settings: EmulatorSettings
) -> list[Phase]:
    """Relaunch removed old instances in batches of RollbackMaximumBatchSize, retiring new ones as it goes."""
    status, phases = settings.rollback_status, []
    restore = blue.current_count - old_alive
    while restore > 0 or green_alive > 0:
        relaunch = min(batch, restore)
        if relaunch:
            view = VariantView(
                blue.fleet,
                old_alive + relaunch,
                blue.current_weight,
                (launching(blue.fleet, relaunch),),
                ramp_from=old_alive,
            )
            phases.append(
                Phase(
                    "RollingBack",
                    f"roll back: relaunch {relaunch} old instance(s)",
                    provision_seconds(settings, relaunch),
                    status,
                    (view,),
                    (VariantView(green, green_alive, green.weight),),
                    provisions=True,
                )
            )
            old_alive, restore = old_alive + relaunch, restore - relaunch
        remove = green_alive if restore == 0 else min(batch, green_alive)
        if remove:
            view = VariantView(green, green_alive, green.weight, (terminating(remove),))
            phases.append(
                Phase(
                    "RollingBack",
                    f"roll back: terminate {remove} new instance(s)",
                    settings.termination_seconds,
                    status,
                    (VariantView(blue.fleet, old_alive, blue.current_weight),),
                    (view,),
                )
            )
            green_alive -= remove
    if not phases:
        view = VariantView(green, 0, 0.0, (terminating(0),))
        phases.append(
            Phase(
                "RollingBack",
                "roll back: discard the failed batch",
                settings.termination_seconds,
                status,
                live_views((blue,)),
                (view,),
            )
        )
    return phases


def plan_scale(
    states: tuple[Any, ...],
    desired: Mapping[str, tuple[int | None, float | None]],
    settings: EmulatorSettings,
) -> tuple[Phase, tuple[Fleet, ...]]:
    """UpdateEndpointWeightsAndCapacities: one Updating phase, no pending summary (spec 3.0)."""
    fleets, views, grow, shrink = [], [], 0, False
    for s in states:
        count, weight = desired.get(s.fleet.name, (None, None))
        fleet = Fleet(
            s.fleet.name,
            s.fleet.model_name,
            s.fleet.instance_type,
            s.fleet.count if count is None else count,
            s.fleet.weight if weight is None else weight,
            s.fleet.serverless,
            s.fleet.images,
        )
        status: tuple[StatusEntry, ...] = ()
        if fleet.count > s.current_count:
            grow, status = (
                max(grow, fleet.count - s.current_count),
                (("Updating", f"Scaling out desired instance count to {fleet.count}."),),
            )
        elif fleet.count < s.current_count:
            shrink, status = True, (("Updating", f"Scaling in desired instance count to {fleet.count}."),)
        fleets.append(fleet)
        views.append(VariantView(fleet, s.current_count, s.current_weight, status))
    if grow:
        duration = provision_seconds(settings, grow)
    else:
        duration = settings.termination_seconds if shrink else settings.activation_seconds
    return Phase("Scaling", "change weights and capacities", duration, "Updating", tuple(views)), tuple(
        fleets
    )


def plan_delete(states: tuple[Any, ...], settings: EmulatorSettings) -> Phase:
    return Phase("Deleting", "delete the endpoint", settings.deletion_seconds, "Deleting", live_views(states))
