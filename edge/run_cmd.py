"""`plate-edge run --config FILE`: the gate daemon (cameras, MQTT, HTTP).

Start-up order is chosen so that every configuration or model problem stops the process before anything
is half-running: config (strict: referenced files must exist, exit 2), plate lists (exit 2), models
(exit 1), then publisher, cameras, HTTP. SIGTERM / SIGINT stop it cleanly: sources and workers end,
in-flight events are given a few seconds to be acknowledged, the rest stay in the outbox for next time.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from edge.cmd_common import add_recognition_options, print_config_error, recognition_options
from edge.config import ConfigError, load_config

log = logging.getLogger(__name__)

EXIT_FAILURE, EXIT_USAGE = 1, 2
HTTP_START_TIMEOUT_S = 15.0


def configure(parser: argparse.ArgumentParser) -> Any:
    add_recognition_options(parser)
    parser.set_defaults(config=None)
    for action in parser._actions:  # --config is required here (the shared option is optional elsewhere)
        if action.dest == "config":
            action.required = True
    parser.add_argument("--no-http", action="store_true", help="do not start the HTTP server")
    return run


def _start_http(service: Any, recognizer: Any, host: str, port: int) -> tuple[Any, threading.Thread]:
    import uvicorn

    from edge.api import create_app

    app = create_app(
        recognizer, checks=service.readiness_checks(), registry=service.registry, live=service.live
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, server_header=False, lifespan="off")
    )
    # uvicorn installs signal handlers only on the main thread: ours (below) stay in charge.
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    # uvicorn reports a failed bind (port taken, bad address) by ending its thread: wait for one or the
    # other, so a daemon that cannot serve /readyz and /metrics fails loudly instead of running half-blind.
    deadline = time.monotonic() + HTTP_START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise OSError(f"cannot serve HTTP on {host}:{port} (address in use or not available)")
    log.info("HTTP on http://%s:%d/", host, port)
    return server, thread


def run(args: argparse.Namespace) -> int:
    from edge.lists import ListFileError, PlateLists
    from edge.logs import setup_logging
    from edge.publisher import Publisher
    from edge.recognizer import load_recognizer
    from edge.sdnotify import Notifier, Watchdog
    from edge.service import GateService

    config_path: Path = args.config
    try:
        config = load_config(config_path, check_files=True)
    except ConfigError as e:
        print_config_error(e)
        return EXIT_USAGE
    setup_logging(
        args.log_format or config.logging.format, args.log_level or config.logging.level, sys.stdout
    )
    try:
        lists = PlateLists.from_config(config.lists)
    except ListFileError as e:
        log.error("%s", e)
        return EXIT_USAGE
    notifier = Notifier.from_env()
    opts = recognition_options(args, config)
    notifier.status("loading models")
    try:
        recognizer = load_recognizer(
            opts.models_dir,
            opts.device,
            opts.detector,
            reread_below=opts.reread_below,
            precision=opts.reader_precision,
        )
    except Exception as e:  # ModelError and ONNX Runtime failures
        log.error("cannot load the models: %s", e)
        return EXIT_FAILURE
    if recognizer.detector is None:
        log.error("the daemon needs a plate detector: --detector none is for plate crops only")
        return EXIT_USAGE
    status = recognizer.status()
    log.info("models loaded", extra={"providers": status["providers"]})
    try:
        config.storage.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        publisher = Publisher.from_config(config)
    except OSError as e:
        log.error("storage.state_dir %s is not usable: %s", config.storage.state_dir, e)
        return EXIT_FAILURE
    service = GateService(
        config,
        recognizer.engine,
        recognizer.detector,
        publisher,
        lists=lists,
        notifier=notifier,
        watchdog=Watchdog(notifier),
    )
    service.metrics.set_build_info(
        device=opts.device,
        providers=",".join(p.removesuffix("ExecutionProvider") for p in status["providers"]["reader"]),
        reader_precision=str(status.get("reader_precision", "")),
    )

    def _stop(signum: int, _frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        service.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    service.start()
    server = None
    if config.http.enabled and not args.no_http:
        try:
            server, _ = _start_http(service, recognizer, config.http.host, config.http.port)
        except Exception as e:
            log.error("HTTP server failed to start: %s (http.host / http.port)", e)
            service.stop()
            return EXIT_FAILURE
    try:
        code = service.run()
    finally:
        if server is not None:
            server.should_exit = True
        service.stop()
    return code
