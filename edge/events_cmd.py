"""`plate-edge events`: watch what a gate publishes, one readable line per message (for installers).

    plate-edge events --config /etc/plate-edge/site.yaml    # the site's broker, TLS, credentials, prefix
    plate-edge events --host 192.0.2.10 --topic 'plate-edge/#'
    plate-edge events --config site.yaml --json | jq .      # the raw payloads, one per line

It subscribes at QoS 1 to `<topic_prefix>/#` (events, camera state, site status) with a random client id
and a clean session: reusing the daemon's client id would kick the daemon off the broker. Retained status
and camera state show up at once, marked `(retained)`. Nothing is acknowledged on the daemon's behalf and
nothing is de-duplicated: a re-delivered event appears twice, with the same id, as a consumer would see it.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.config import ConfigError, MqttConfig, load_config

if TYPE_CHECKING:  # paho is imported by the handler only: `plate-edge --help` stays instant
    import paho.mqtt.client as mqtt
    from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def configure(parser: argparse.ArgumentParser) -> Any:
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="site config: broker, TLS, user, topic prefix"
    )
    parser.add_argument("--host", help="broker host (default: the config's mqtt.host)")
    parser.add_argument("--port", type=int, help="broker port (default: the config's, else 1883)")
    parser.add_argument("--topic", help="topic filter (default: <topic_prefix>/#, else plate-edge/#)")
    parser.add_argument("--json", action="store_true", help="print each payload as received, one per line")
    parser.add_argument("--count", type=int, metavar="N", help="exit after N vehicle events")
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="exit after S seconds (1 if --count not met)"
    )
    return run


def _ts(obj: dict[str, Any]) -> str:
    return str(obj.get("ts", "-"))


def format_message(topic: str, payload: bytes, retained: bool = False) -> str:
    """One line for a message: vehicle event, camera state, site status, or anything else as received."""
    mark = " (retained)" if retained else ""
    try:
        obj = json.loads(payload)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return f"{topic}{mark} {payload.decode('utf-8', 'replace')}"
    if obj.get("schema") == "plate-edge/event/1":
        plate = obj.get("plate") or {}
        listed = (obj.get("list") or {}).get("name")
        return (
            f"{_ts(obj)}  {obj.get('site')}/{obj.get('camera')}  {obj.get('type', '?'):<13}  "
            f"{plate.get('text', '?')}  conf={plate.get('confidence', 0):.2f}  "
            f"{'valid' if plate.get('valid') else 'INVALID'}  {plate.get('kind', '?')}  "
            f"dir={obj.get('direction') or '-'}  list={listed or '-'}  "
            f"vehicle={obj.get('vehicle_id')}  id={str(obj.get('event_id'))[:8]}{mark}"
        )
    if topic.endswith("/state"):
        fps = f"  {obj['fps']} fps" if obj.get("fps") is not None else ""
        reason = f"  reason: {obj['reason']}" if obj.get("reason") else ""
        return f"{_ts(obj)}  {topic.removesuffix('/state')}  camera {obj.get('state')}{fps}{reason}{mark}"
    if topic.endswith("/status"):
        return f"{_ts(obj)}  {topic.removesuffix('/status')}  daemon {obj.get('state')}{mark}"
    return f"{topic}{mark} {json.dumps(obj, ensure_ascii=False)}"


def run(args: argparse.Namespace) -> int:
    from edge.mqtt_connect import new_client

    try:
        config = load_config(args.config) if args.config is not None else None
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.format(exc.file), file=sys.stderr)
        return EXIT_USAGE
    if config is None and not args.host:
        print("plate-edge events: give --config FILE or --host HOST", file=sys.stderr)
        return EXIT_USAGE
    cfg = config.mqtt if config is not None else MqttConfig(host=args.host)
    cfg = cfg.model_copy(update={"host": args.host or cfg.host, "port": args.port or cfg.port})
    topic = args.topic or f"{config.topic_prefix if config is not None else 'plate-edge'}/#"
    try:
        client = new_client(cfg, f"plate-edge-events-{uuid.uuid4().hex[:8]}", persistent=False)
    except (OSError, LookupError) as exc:  # TLS files, password file or variable
        print(f"plate-edge events: {exc}", file=sys.stderr)
        return EXIT_USAGE

    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()

    def on_connect(c: mqtt.Client, u: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, props: Any) -> None:
        inbox.put(("connack", rc))
        if not rc.is_failure:
            c.subscribe(topic, qos=1)

    def on_message(c: mqtt.Client, u: Any, message: mqtt.MQTTMessage) -> None:
        inbox.put(("message", message))

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
    except OSError as exc:
        print(f"plate-edge events: cannot connect to {cfg.host}:{cfg.port}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    client.loop_start()
    try:
        return _print_loop(inbox, args, f"{cfg.host}:{cfg.port}", topic)
    finally:
        client.disconnect()
        client.loop_stop()


def _print_loop(
    inbox: queue.Queue[tuple[str, Any]], args: argparse.Namespace, broker: str, topic: str
) -> int:
    deadline = time.monotonic() + args.timeout if args.timeout is not None else None
    events = 0
    while args.count is None or events < args.count:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return EXIT_OK if args.count is None else EXIT_FAILURE
        try:
            kind, item = inbox.get(timeout=min(remaining or 1.0, 1.0))
        except queue.Empty:
            continue
        if kind == "connack":
            if item.is_failure:
                print(f"plate-edge events: broker {broker} refused the connection: {item}", file=sys.stderr)
                return EXIT_FAILURE
            print(f"# listening on {broker} to {topic}", file=sys.stderr)
            continue
        message: mqtt.MQTTMessage = item
        if args.json:
            print(message.payload.decode("utf-8", "replace"), flush=True)
        else:
            print(format_message(message.topic, bytes(message.payload), bool(message.retain)), flush=True)
        events += message.topic.endswith("/events")
    return EXIT_OK
