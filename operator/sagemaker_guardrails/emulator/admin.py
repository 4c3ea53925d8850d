"""The admin API under ``/_emulator/``: health, call log, timeline, faults, alarm holds, clock, settings.

Plain JSON over HTTP so that a test, a benchmark or a shell script can drive an emulator started in
another process (``curl http://127.0.0.1:4566/_emulator/health``). ``AdminClient`` in ``client.py`` is
the Python side of the same API. docs/emulator.md lists every route.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sagemaker_guardrails import __version__
from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.describe import current_status
from sagemaker_guardrails.emulator.faults import PROVISIONING_REASONS, ProvisioningFault

PREFIX = "/_emulator"

ROUTES = Map(
    [
        Rule(f"{PREFIX}/health", endpoint="health", methods=["GET"]),
        Rule(f"{PREFIX}/settings", endpoint="settings", methods=["GET", "PATCH"]),
        Rule(f"{PREFIX}/clock", endpoint="clock", methods=["GET"]),
        Rule(f"{PREFIX}/clock/advance", endpoint="advance", methods=["POST"]),
        Rule(f"{PREFIX}/calls", endpoint="calls", methods=["GET", "DELETE"]),
        Rule(f"{PREFIX}/timeline", endpoint="timeline", methods=["GET"]),
        Rule(f"{PREFIX}/endpoints", endpoint="endpoints", methods=["GET"]),
        Rule(f"{PREFIX}/faults", endpoint="faults", methods=["GET", "DELETE"]),
        Rule(f"{PREFIX}/faults/provisioning", endpoint="fail_provisioning", methods=["POST"]),
        Rule(f"{PREFIX}/faults/rollback", endpoint="fail_rollback", methods=["POST"]),
        Rule(f"{PREFIX}/faults/throttle", endpoint="throttle", methods=["POST", "DELETE"]),
        Rule(f"{PREFIX}/faults/server-error", endpoint="server_error", methods=["POST", "DELETE"]),
        Rule(f"{PREFIX}/faults/latency", endpoint="latency", methods=["POST", "DELETE"]),
        Rule(f"{PREFIX}/alarms/holds", endpoint="holds", methods=["GET"]),
        Rule(f"{PREFIX}/alarms/<path:name>/hold", endpoint="hold", methods=["PUT", "DELETE"]),
        Rule(f"{PREFIX}/reset", endpoint="reset", methods=["POST"]),
    ]
)


class AdminRequestError(Exception):
    pass


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status, content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    if not request.get_data():
        return {}
    try:
        data = json.loads(request.get_data())
    except ValueError as error:
        raise AdminRequestError(f"body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise AdminRequestError("body must be a JSON object")
    return data


def _known(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise AdminRequestError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _hit_args(body: dict[str, Any]) -> dict[str, Any]:
    """``rate``, ``count`` and ``seed`` of a server-error or latency fault."""
    count, seed = body.get("count"), body.get("seed")
    return {
        "rate": float(body.get("rate", 1.0)),
        "count": None if count is None else int(count),
        "seed": None if seed is None else int(seed),
    }


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class AdminApi:
    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    def handle(self, request: Request) -> Response:
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
            return getattr(self, f"_{endpoint}")(request, **args)  # type: ignore[no-any-return]
        except NotFound:
            return _json({"error": f"no admin route {request.method} {request.path}"}, 404)
        except HTTPException as error:
            return _json({"error": str(error)}, error.code or 400)
        except (AdminRequestError, ValueError, KeyError, TypeError, ValidationError) as error:
            return _json({"error": str(error)}, 400)

    def _health(self, request: Request) -> Response:
        ctx = self._ctx
        return _json(
            {
                "status": "ok",
                "version": __version__,
                "url": ctx.url,
                "speed": ctx.clock.speed,
                "sim_time": ctx.clock.now(),
                "account_id": ctx.settings.account_id,
                "region": ctx.settings.region,
            }
        )

    def _settings(self, request: Request) -> Response:
        if request.method == "PATCH":
            return _json(self._ctx.configure(_body(request)).model_dump())
        return _json(self._ctx.settings.model_dump())

    def _clock(self, request: Request) -> Response:
        clock = self._ctx.clock
        return _json(
            {
                "sim_time": clock.now(),
                "speed": clock.speed,
                "sim_datetime": clock.to_datetime(clock.now()).isoformat(),
            }
        )

    def _advance(self, request: Request) -> Response:
        seconds = float(_body(request)["seconds"])
        with self._ctx.lock:
            self._ctx.clock.advance(seconds)
            self._ctx.engine.advance()
        self._ctx.wake.set()
        return self._clock(request)

    def _calls(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._ctx.calls.clear()
            return _json({"cleared": True})
        args = request.args
        calls = self._ctx.calls.query(
            since=int(args.get("since", 0)),
            operation=args.get("operation"),
            endpoint=args.get("endpoint"),
            service=args.get("service"),
            include_internal=_flag(args.get("internal")),
        )
        return _json({"calls": calls})

    def _timeline(self, request: Request) -> Response:
        with self._ctx.lock:
            self._ctx.engine.advance()
        args = request.args
        events = self._ctx.timeline.events(
            args.get("endpoint"), args.get("region"), int(args.get("since", 0))
        )
        return _json({"events": events})

    def _endpoints(self, request: Request) -> Response:
        ctx, rows = self._ctx, []
        with ctx.lock:
            ctx.engine.advance()
            for endpoint in ctx.store.endpoints():
                op = endpoint.operation
                row: dict[str, Any] = {
                    "name": endpoint.name,
                    "region": endpoint.region,
                    "status": current_status(endpoint),
                    "config_name": endpoint.config_name,
                    "failure_reason": endpoint.failure_reason,
                }
                if op is not None:
                    row.update(
                        operation=op.kind,
                        phase=op.phase.name,
                        label=op.phase.label,
                        step=op.phase.step,
                        steps=op.phase.steps,
                        traffic_percent=op.phase.traffic,
                        phase_started=op.phase_start,
                        phase_ends=op.phase_end,
                        target_config=op.target_config,
                        rolling_back=op.rolling_back,
                        strategy=op.policy.mode if op.policy else None,
                    )
                rows.append(row)
        return _json({"endpoints": rows})

    def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._ctx.faults.clear()
        return _json(self._ctx.faults.snapshot())

    def _fail_provisioning(self, request: Request) -> Response:
        body = _body(request)
        kind = body.get("kind", "model-download")
        if kind not in PROVISIONING_REASONS:
            raise AdminRequestError(f"kind must be one of {', '.join(PROVISIONING_REASONS)}")
        self._ctx.faults.fail_next_provisioning(
            ProvisioningFault(body["endpoint"], kind, body.get("reason"), body.get("region"))
        )
        return _json(self._ctx.faults.snapshot())

    def _fail_rollback(self, request: Request) -> Response:
        body = _body(request)
        self._ctx.faults.fail_next_rollback(body["endpoint"], body.get("region"))
        return _json(self._ctx.faults.snapshot())

    def _throttle(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._ctx.faults.clear_throttles(request.args.get("operation"))
        else:
            body = _body(request)
            count = body.get("count")
            self._ctx.faults.throttle(
                body["operation"],
                float(body.get("rate", 0.0)),
                int(body.get("burst", 1)),
                None if count is None else int(count),
            )
        return _json(self._ctx.faults.snapshot())

    def _server_error(self, request: Request) -> Response:
        faults = self._ctx.faults
        if request.method == "DELETE":
            faults.clear_server_errors(request.args.get("operation"))
            return _json(faults.snapshot())
        body = _body(request)
        _known(body, {"operation", "status", "code", "message", "mode", "rate", "count", "seed"})
        faults.server_error(
            body["operation"],
            status=int(body.get("status", 500)),
            code=body.get("code"),
            message=body.get("message"),
            mode=str(body.get("mode", "before")),
            **_hit_args(body),
        )
        return _json(faults.snapshot())

    def _latency(self, request: Request) -> Response:
        faults = self._ctx.faults
        if request.method == "DELETE":
            faults.clear_latency(request.args.get("operation"))
            return _json(faults.snapshot())
        body = _body(request)
        _known(body, {"operation", "seconds", "rate", "count", "seed"})
        faults.latency(body["operation"], float(body["seconds"]), **_hit_args(body))
        return _json(faults.snapshot())

    def _holds(self, request: Request) -> Response:
        return _json({"holds": [h.__dict__ for h in self._ctx.cloudwatch.holds()]})

    def _hold(self, request: Request, name: str) -> Response:
        if request.method == "DELETE":
            released = self._ctx.cloudwatch.release(name, request.args.get("region"))
            return _json({"released": released})
        body = _body(request)
        hold = self._ctx.cloudwatch.hold(name, body["state"], body.get("region"), body.get("reason"))
        self._ctx.wake.set()
        return _json(hold.__dict__)

    def _reset(self, request: Request) -> Response:
        self._ctx.reset()
        return _json({"reset": True})
