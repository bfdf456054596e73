"""`plate-edge serve [--host --port] [--config FILE]`: the HTTP API and page alone, no cameras.

The models are loaded before the port is bound, so a running server is a ready one and a missing model
fails the command at once (exit 1) instead of answering 503 forever. Uvicorn runs with our logging
(``log_config=None``): its access and error lines go to stderr in the configured text or JSON format.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from edge.cmd_common import add_recognition_options, load_config_arg, print_config_error, recognition_options
from edge.config import ConfigError, HttpConfig

log = logging.getLogger(__name__)

EXIT_FAILURE, EXIT_USAGE = 1, 2


def configure(parser: argparse.ArgumentParser) -> Any:
    parser.add_argument("--host", help="bind address (default: config http.host, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default: config http.port, else 8080)")
    parser.add_argument(
        "--max-concurrency", type=int, default=0, help="analyses run at once (default: the usable CPU cores)"
    )
    add_recognition_options(parser)
    return run


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from edge.api import create_app
    from edge.logs import setup_logging
    from edge.recognizer import load_recognizer

    try:
        config = load_config_arg(args)
    except ConfigError as e:
        print_config_error(e)
        return EXIT_USAGE
    if config is not None and (args.log_format is None or args.log_level is None):
        setup_logging(
            args.log_format or config.logging.format, args.log_level or config.logging.level, sys.stdout
        )
    http = config.http if config is not None else HttpConfig()
    host: str = args.host or http.host
    port: int = args.port or http.port
    if not 0 < port < 65536:
        log.error("--port must be 1..65535, got %d", port)
        return EXIT_USAGE
    opts = recognition_options(args, config)
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
    app = create_app(recognizer, max_concurrency=args.max_concurrency or None)
    log.info("serving on http://%s:%d/", host, port)
    uvicorn.run(app, host=host, port=port, log_config=None, server_header=False)
    return 0
