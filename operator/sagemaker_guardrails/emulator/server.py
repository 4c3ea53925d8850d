"""Running the emulator: ``Emulator`` (in-process, a context manager) and ``sagemaker-guardrails emulator``.

    with Emulator(EmulatorSettings(speed=200)) as emu:
        sm = emu.client("sagemaker")          # boto3, pointed at emu.url with dummy credentials
        emu.admin.hold_alarm("my-alarm", "ALARM")

From a shell, ``sagemaker-guardrails emulator --port 4566 --speed 60``; then any boto3 program works with
``AWS_ENDPOINT_URL=http://127.0.0.1:4566`` and dummy credentials. The emulator never calls AWS: its only
client (the alarm reader) points at the emulator itself.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sagemaker_guardrails.emulator.app import EmulatorApp
from sagemaker_guardrails.emulator.client import AdminClient
from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.settings import EmulatorSettings, parse_setting, setting_type_name

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path, code)


class _Ticker(threading.Thread):
    """Advances the engine at every phase boundary and alarm poll, sleeping in between."""

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(name="emulator-ticker", daemon=True)
        self._ctx = ctx
        self._stopped = threading.Event()

    def run(self) -> None:
        ctx = self._ctx
        while not self._stopped.is_set():
            ctx.wake.clear()
            try:
                with ctx.lock:
                    ctx.engine.advance()
                    due = ctx.engine.next_due()
            except Exception:
                log.exception("the emulator's engine failed; continuing")
                due = None
            delay = 0.5 if due is None else min(max(ctx.clock.real_seconds_until(due), 0.0005), 0.5)
            ctx.wake.wait(delay)

    def stop(self) -> None:
        self._stopped.set()
        self._ctx.wake.set()


class Emulator:
    """One emulator: HTTP server thread + ticker thread. Port 0 (the in-process default) picks a free port."""

    def __init__(self, settings: EmulatorSettings | None = None, **overrides: Any) -> None:
        base = settings if settings is not None else EmulatorSettings(port=0)
        self.context = EmulatorContext(base.updated(overrides) if overrides else base)
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._ticker: _Ticker | None = None

    @property
    def settings(self) -> EmulatorSettings:
        return self.context.settings

    @property
    def url(self) -> str:
        if not self.context.url:
            raise RuntimeError("the emulator is not running")
        return self.context.url

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url)

    def start(self) -> Emulator:
        settings = self.context.settings
        self._server = make_server(
            settings.host,
            settings.port,
            EmulatorApp(self.context),
            threaded=True,
            request_handler=_QuietHandler,
        )
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
        host = f"[{host}]" if ":" in host else host
        self.context.settings = settings.updated({"port": self._server.server_port})
        self.context.url = f"http://{host}:{self._server.server_port}"
        serve = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="emulator-http",
            daemon=True,
        )
        serve.start()
        self._ticker = _Ticker(self.context)
        self._ticker.start()
        warm = threading.Thread(
            target=self.context.alarms.warm, args=(settings.region,), name="emulator-warmup", daemon=True
        )
        warm.start()
        self._threads = [serve, self._ticker, warm]
        return self

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.context.alarms.close()
        self._server, self._ticker, self._threads = None, None, []

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def client(self, service: str, region: str | None = None, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` pointed at this emulator with dummy credentials."""
        import boto3

        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region or self.settings.region,
        )
        return session.client(service, endpoint_url=self.url, **kwargs)  # type: ignore[call-overload]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sagemaker-guardrails emulator",
        description="Serve the local SageMaker + CloudWatch emulator. Every setting can also be given as "
        "SAGEMAKER_GUARDRAILS_EMULATOR_<NAME>; flags win. Lists are comma-separated; 'none' clears an optional value.",
    )
    for name, field in EmulatorSettings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = ",".join(default) if isinstance(default, list) else default
        help_text = f"{field.description} (default: {shown})".replace("%", "%%")
        kind = setting_type_name(name)
        metavar = kind if "|" in kind else kind.upper()  # choices are case-sensitive: show them as they are
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=metavar, help=help_text)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def cli_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    flags = {
        name: parse_setting(name, value)
        for name, value in vars(args).items()
        if name in EmulatorSettings.model_fields and value is not None
    }
    try:
        settings = EmulatorSettings.from_env(**flags)
    except ValueError as error:
        print(f"invalid emulator settings: {error}", file=sys.stderr)
        return 2
    emulator = Emulator(settings)
    try:
        emulator.start()
    except OSError as error:
        print(f"cannot listen on {settings.host}:{settings.port}: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(
        f"SageMaker + CloudWatch emulator listening on {emulator.url} (speed {emulator.settings.speed:g}x)",
        flush=True,
    )
    print(
        f"  export AWS_ENDPOINT_URL={emulator.url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"AWS_DEFAULT_REGION={emulator.settings.region}",
        flush=True,
    )
    print(f"  admin API: {emulator.url}/_emulator/health", flush=True)
    stop.wait()
    emulator.stop()
    return 0
