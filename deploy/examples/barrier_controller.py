#!/usr/bin/env python3
"""Reference barrier controller for plate-edge: the MQTT integration guide, as code you can run.

    pip install "paho-mqtt>=2,<3"
    python barrier_controller.py --host broker.example --site gate-1 --username barrier --password-env PW

What plate-edge publishes (design.md, "MQTT contract"; schema in edge/schemas/event.schema.json):

    plate-edge/<site>/<camera>/events  vehicle events, QoS 1, not retained
    plate-edge/<site>/<camera>/state   camera health, retained: streaming | reconnecting | error
    plate-edge/<site>/status           {"state": "online"|"offline", "ts"}, retained; offline = Last Will

How to consume it safely (each point is implemented below):

1. Delivery is AT LEAST ONCE. After a broker outage or a daemon crash, events still in the daemon's outbox
   are sent again, so the same event can arrive twice. De-duplicate on `event_id` (uuid4, the same in
   every copy); a bounded LRU of recent ids is enough (`SeenIds`).
2. Subscribe at QoS 1 with a FIXED client id and a persistent session (`clean_session=False`, or an MQTT 5
   session expiry): the broker then queues events while this controller restarts. With a clean session,
   events published while you are away are lost for you. Only one process per client id.
3. Act on `plate.read`: sent as soon as the read is confident and stable, while the car waits at the
   gate. `plate.updated` corrects an earlier read of the same `vehicle_id` (log it; re-check your list
   if you care); `vehicle.left` closes the passage (log it, bill it).
4. Check the age of `ts` before moving hardware: an event replayed after an outage describes a car that
   may have left long ago (`--max-age`, default 30 s). All timestamps are ISO-8601 with an offset.
5. `list.name` is "allow", "deny" or null (no list matched) when the site configures lists; the policy
   (`should_open`) is yours: here any read opens except a deny-listed plate.
6. Watch the retained `status`: `offline` means the daemon is gone (crash, power, network: the broker
   sends the Last Will); fall back to a ticket or intercom until it is `online` again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

DEFAULT_MAX_AGE_S = 30.0


class SeenIds:
    """A bounded LRU set of event ids: `add` returns False for an id seen among the last `size`."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def should_open(event: dict[str, Any]) -> bool:
    """Your gate policy. This one: open for any read except a plate on the deny list."""
    return (event.get("list") or {}).get("name") != "deny"


class BarrierController:
    """Turns messages into actions; `handle` returns the line it printed (or None for duplicates)."""

    def __init__(self, max_age_s: float = DEFAULT_MAX_AGE_S, seen: SeenIds | None = None) -> None:
        self.max_age_s = max_age_s
        self.seen = seen if seen is not None else SeenIds()

    def open_barrier(self, plate: str, event: dict[str, Any]) -> None:
        """Replace with your relay / PLC / barrier API call."""

    def handle(self, topic: str, payload: bytes, now: datetime | None = None) -> str | None:
        try:
            message = json.loads(payload)
        except ValueError:
            return self._say(f"ignored non-JSON message on {topic}")
        if topic.endswith("/status"):
            return self._say(f"plate-edge {topic.rsplit('/', 1)[0]} is {str(message.get('state')).upper()}")
        if topic.endswith("/state"):
            return self._say(
                f"camera {topic.rsplit('/', 2)[1]}: {message.get('state')} {message.get('reason') or ''}"
            )
        if message.get("schema") != "plate-edge/event/1":
            return self._say(f"ignored unknown message on {topic}")
        if not self.seen.add(str(message.get("event_id"))):
            return None  # a re-delivered copy: already handled
        kind, plate = message.get("type"), (message.get("plate") or {}).get("text", "?")
        if kind != "plate.read":
            return self._say(
                f"{kind} {plate} vehicle={message.get('vehicle_id')} camera={message.get('camera')}"
            )
        age = ((now or datetime.now(UTC)) - datetime.fromisoformat(message["ts"])).total_seconds()
        if age > self.max_age_s:
            return self._say(f"IGNORED plate.read for {plate}: {age:.0f} s old (replayed after an outage?)")
        if not should_open(message):
            return self._say(f"KEEP CLOSED for {plate} (deny list)")
        self.open_barrier(plate, message)
        return self._say(f"OPEN barrier for {plate}")

    @staticmethod
    def _say(line: str) -> str:
        print(line, flush=True)
        return line


def main(argv: list[str] | None = None) -> int:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--site", required=True, help="site id: subscribes to plate-edge/<site>/...")
    parser.add_argument("--prefix", help="topic prefix (default plate-edge/<site>)")
    parser.add_argument("--client-id", default=None, help="fixed, unique id (default barrier-<site>)")
    parser.add_argument("--username")
    parser.add_argument("--password-env", help="environment variable holding the password")
    parser.add_argument("--tls-ca", help="CA file: connect with TLS")
    parser.add_argument(
        "--max-age", type=float, default=DEFAULT_MAX_AGE_S, help="ignore older plate.read (s)"
    )
    args = parser.parse_args(argv)

    prefix = args.prefix or f"plate-edge/{args.site}"
    controller = BarrierController(args.max_age)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=args.client_id or f"barrier-{args.site}", clean_session=False
    )
    if args.username:
        client.username_pw_set(
            args.username, os.environ.get(args.password_env) if args.password_env else None
        )
    if args.tls_ca:
        client.tls_set(ca_certs=args.tls_ca)

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            print(f"broker refused the connection: {rc}", file=sys.stderr)
            return
        c.subscribe([(f"{prefix}/+/events", 1), (f"{prefix}/+/state", 1), (f"{prefix}/status", 1)])

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            controller.handle(message.topic, bytes(message.payload))
        except Exception as exc:  # one bad message must not stop the gate
            print(f"cannot handle a message on {message.topic}: {exc!r}", file=sys.stderr)

    client.on_connect = on_connect
    client.on_message = on_message
    client.reconnect_delay_set(1, 30)
    client.connect_async(args.host, args.port, keepalive=30)
    try:
        client.loop_forever(retry_first_connection=True)
    except KeyboardInterrupt:
        client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
