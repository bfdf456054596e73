"""The `plate-edge` command line.

Subcommands register through COMMANDS: each `Command` names itself, adds its arguments to its own parser
and returns the function that runs it. Adding a command is one `Command` in its own module and one line in
COMMANDS, and `--help` lists exactly what is registered, so nothing is advertised before it exists.

Exit codes (design.md): 0 ok, 1 runtime failure, 2 bad usage or bad config / unreadable input.
"""

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge import __version__
from edge.config import ConfigError, load_config
from edge.logs import setup_logging

__all__ = ["COMMANDS", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "Command", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """A subcommand.

    `configure` adds the command's arguments to its parser and returns the handler, which gets the parsed
    namespace and returns an exit code. Keep `configure` cheap and import heavy modules (onnxruntime, av)
    inside the handler, so `plate-edge --help` stays instant on a small box. `args.log_format` and
    `args.log_level` are None unless given on the command line, so a handler can fall back to the config's
    `logging` section (command line wins) by calling `edge.logs.setup_logging` again.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], Handler]
    #: Services log to stdout (journald reads it); commands whose stdout is their result (JSON, reports)
    #: log to stderr so that `plate-edge analyze x.jpg | jq` keeps working.
    logs_to_stdout: bool = False


def _configure_check_config(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("file", metavar="FILE", help="the YAML config to check")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also check that the files it names exist and are readable here (as `run` does at startup)",
    )
    return _check_config


def _check_config(args: argparse.Namespace) -> int:
    # Problems go to stdout: they are this command's result, in the FILE:LINE: form editors can parse.
    try:
        config = load_config(args.file, check_files=args.strict)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.format(args.file))
        return EXIT_USAGE
    log.debug("config is valid", extra={"file": args.file, "cameras": len(config.cameras)})
    print(f"OK: {args.file} ({len(config.cameras)} cameras)")
    return EXIT_OK


CHECK_CONFIG = Command(
    name="check-config",
    help="validate a config file; exit 0, or print every problem as FILE:LINE: key: message and exit 2",
    configure=_configure_check_config,
)


def _from_module(module: str) -> Callable[[argparse.ArgumentParser], Handler]:
    """A command's `configure` that lives in ``edge.<module>``: imported only when the parser is built,
    and that module keeps its own heavy imports inside its handler."""

    def configure(parser: argparse.ArgumentParser) -> Handler:
        handler: Handler = importlib.import_module(f"edge.{module}").configure(parser)
        return handler

    return configure


EVAL = Command(
    name="eval",
    help="score the models on a labelled manifest (CSV); last line exact=0.NNN cer=0.NNN n=N",
    configure=_from_module("evaluate"),
)
ANALYZE = Command(
    name="analyze",
    help="analyse still images; prints the analysis JSON (an object for one file, else an array)",
    configure=_from_module("analyze_cmd"),
)
SERVE = Command(
    name="serve",
    help="serve only the HTTP API and page (no cameras)",
    configure=_from_module("serve_cmd"),
    logs_to_stdout=True,
)
RUN = Command(
    name="run",
    help="the gate daemon: every configured camera, MQTT events, HTTP health/metrics/API",
    configure=_from_module("run_cmd"),
    logs_to_stdout=True,
)
EVENTS = Command(
    name="events",
    help="subscribe to a site's MQTT topics and print events, camera state and status (for installers)",
    configure=_from_module("events_cmd"),
)

BENCH = Command(
    name="bench",
    help="run a benchmark from the source tree's benchmarks/ (stream, capacity, latency, api, reader, ...)",
    configure=_from_module("bench_cmd"),
)

COMMANDS: list[Command] = [RUN, CHECK_CONFIG, EVAL, ANALYZE, SERVE, EVENTS, BENCH]


def _add_logging_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--log-format", choices=("text", "json"), default=default, help="log line format (default: text)"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default,
        help="log threshold (default: INFO)",
    )


def build_parser(commands: Sequence[Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with `commands` (default: COMMANDS) as subcommands; see `args.handler`."""
    if commands is None:
        commands = COMMANDS  # looked up at call time, so tests and plugins can extend the list
    parser = argparse.ArgumentParser(
        prog="plate-edge", description="Korean licence-plate recognition for parking gates."
    )
    parser.add_argument("--version", action="version", version=f"plate-edge {__version__}")
    _add_logging_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in commands:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        # Also accepted after the command name (`plate-edge check-config --log-level debug x.yaml`);
        # SUPPRESS keeps the subparser from overwriting a value given before the command name.
        _add_logging_options(sub, argparse.SUPPRESS)
        sub.set_defaults(handler=command.configure(sub), logs_to_stdout=command.logs_to_stdout)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (`argv` defaults to sys.argv[1:]) and return the exit code.

    Returns instead of exiting, also for --help, --version and usage errors, so tests can call it directly;
    the console script passes the code to sys.exit.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("plate-edge: error: a command is required (see plate-edge --help)", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(
        args.log_format or "text", args.log_level or "INFO", sys.stdout if args.logs_to_stdout else None
    )
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130  # the shell convention for SIGINT
    except Exception:
        log.exception("%s failed", args.command)
        return EXIT_FAILURE
    return code
