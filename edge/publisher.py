"""MQTT publishing for the daemon (design.md, "MQTT contract"): events at QoS 1 through the on-disk outbox,
retained site status with an `offline` Last Will, retained camera state.

Usage::

    publisher = Publisher.from_config(config)      # opens <state_dir>/outbox.sqlite3
    publisher.start()                             # returns at once; connects and reconnects in the background
    publisher.publish_event(event)                # durable when it returns; raises OutboxFull at the bound
    publisher.publish_camera_state(state)         # latest state per camera, re-sent on every connect
    publisher.stop()                              # retained offline, clean disconnect

Delivery. `publish_event` only writes the outbox (fsynced). One "pump" thread hands outbox rows to paho in
row order, at most `mqtt.max_inflight` unacknowledged at once (fewer if an MQTT 5 broker's Receive Maximum
is lower), and remembers `mid -> row id` for the CURRENT connection only. On PUBACK (paho's `on_publish`)
the row is deleted; a PUBACK with a failure reason code (MQTT 5) that retrying cannot fix (not authorised,
bad topic, bad payload) deletes the row too, with an ERROR and `events_rejected` counted; any other failure
code leaves the row for the next connection. After every (re)connect the map is cleared and everything
still in the outbox is sent again, oldest first. paho itself also re-sends what it had in flight when the
link dropped (same packet ids, DUP flag), so a reconnect can duplicate up to `max_inflight` events:
at-least-once, and consumers de-duplicate on `event_id` (design.md). We never rely on paho's in-memory
copy: it dies with the process, the outbox does not.

Threads. Only the pump calls `client.publish` (and `stop`, after the pump has ended), and no lock of ours
is held while it does: paho calls `on_publish` with its own message lock held, so taking our lock there
while another thread held ours and waited for paho's would deadlock. Callbacks only record and wake the
pump; the pump does the SQLite work, so an fsync never stalls paho's network thread.

Session. MQTT 3.1.1 connects with `clean_session=False`, MQTT 5 with clean start on the first connect only
and a one-hour Session Expiry: paho's re-send of in-flight packets with their original ids after a
reconnect is only defined within a resumed session. We subscribe to nothing, so the session costs the
broker next to nothing, and correctness never depends on it (the outbox does that).

Connection failures. Unreachable broker or TLS failure: logged once per outage, retried with the
configured doubling backoff (`reconnect_delay_set`). CONNACK refused for credentials (bad user name or
password, not authorised): one ERROR naming the broker and user, then a retry every `auth_retry_s`
(60 s) instead of a reconnect storm, re-reading the password file/variable before each retry so a fixed
credential is picked up without a restart.

Counters for metrics (plain attributes): `events_published`, `events_rejected`, `connects`,
`connect_attempts`, `auth_failures`; `outbox_depth`, `outbox_full` and `connected` are properties.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.config_schema import Config, MqttConfig
from edge.events import CameraState, SiteStatus, Topics, VehicleEvent, now
from edge.mqtt_connect import new_client
from edge.outbox import Outbox

__all__ = ["AUTH_RETRY_S", "Publisher"]

log = logging.getLogger(__name__)

AUTH_RETRY_S = 60.0
SESSION_EXPIRY_S = 3600
_AUTH_REFUSED = {0x86, 0x87, 0x8A, 0x8C}  # bad user name or password, not authorised, banned, bad auth method
_BUSY = {0x88, 0x89, 0x97}  # server unavailable, server busy, quota exceeded: ordinary backoff
_PUBACK_PERMANENT = {0x87, 0x90, 0x99}  # not authorised (ACL), topic name invalid, payload format invalid


def _password_source(cfg: MqttConfig) -> str:
    if cfg.password_file is not None:
        return f"password_file {cfg.password_file}"
    if cfg.password_env is not None:
        return f"password_env {cfg.password_env}"
    return "no password"


class Publisher:
    """Publishes events, camera state and site status for one site; thread-safe; see the module doc."""

    def __init__(
        self,
        cfg: MqttConfig,
        topic_prefix: str,
        outbox: Outbox,
        *,
        auth_retry_s: float = AUTH_RETRY_S,
        owns_outbox: bool = False,
    ) -> None:
        self.cfg = cfg
        self.topics = Topics(topic_prefix)
        self.outbox = outbox
        self.auth_retry_s = auth_retry_s
        self.broker = f"{cfg.host}:{cfg.port}"
        self._owns_outbox = owns_outbox
        self.events_published = 0
        self.events_rejected = 0
        self.connects = 0
        self.connect_attempts = 0
        self.auth_failures = 0

        self._cond = threading.Condition()  # guards the fields below; never held while calling paho
        self._connected = False
        self._generation = 0  # bumped on every connect and disconnect
        self._acks: list[tuple[int, int, ReasonCode]] = []  # (generation, mid, reason) from on_publish
        self._states: dict[str, CameraState] = {}
        self._dirty: set[str] = set()  # cameras whose latest state is not yet sent on this connection
        self._status_due = False
        self._kick = False
        self._stopping = False
        self._stop_deadline = 0.0
        self._thread: threading.Thread | None = None
        self._auth_refused = False  # the last CONNACK refused our credentials
        self._unreachable = False  # a connect failure was logged in this outage

        self._client = new_client(cfg, cfg.client_id, persistent=True)
        self._window = cfg.max_inflight  # events in flight; lowered to the broker's Receive Maximum (MQTT 5)
        self._client.max_inflight_messages_set(cfg.max_inflight)
        self._backoff()
        self._client.on_pre_connect = self._on_pre_connect
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @classmethod
    def from_config(cls, config: Config) -> Publisher:
        """A publisher for the site, with its outbox at `<storage.state_dir>/outbox.sqlite3`."""
        outbox = Outbox(config.storage.state_dir / "outbox.sqlite3", config.storage.outbox_max_events)
        return cls(config.mqtt, config.topic_prefix, outbox, owns_outbox=True)

    # -- public API -------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True between a successful CONNACK and the next disconnect."""
        return self._connected

    @property
    def outbox_depth(self) -> int:
        return self.outbox.depth

    @property
    def outbox_full(self) -> bool:
        return self.outbox.full

    def start(self) -> None:
        """Start connecting (in the background; an unreachable broker is retried, not an error)."""
        if self._thread is not None:
            return
        properties = None
        if self.cfg.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._set_will()
        self._client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive_s, properties=properties)
        self._thread = threading.Thread(target=self._pump, name="mqtt-outbox", daemon=True)
        self._thread.start()
        self._client.loop_start()
        log.info("publishing to %s", self.broker, extra={"client_id": self.cfg.client_id})

    def stop(self, timeout: float = 5.0) -> None:
        """Wait (up to `timeout`) for in-flight PUBACKs, publish retained `offline`, disconnect cleanly.

        Undelivered events stay in the outbox for the next start. Idempotent; a stopped publisher cannot
        be started again (make a new one).
        """
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        with self._cond:
            self._stopping = True
            self._stop_deadline = deadline - timeout / 2
            self._cond.notify_all()
        thread.join(max(0.0, deadline - time.monotonic()))
        if self._connected:
            info = self._client.publish(self.topics.status, SiteStatus("offline", now()).to_json(), 1, True)
            with contextlib.suppress(RuntimeError, ValueError):  # not connected any more / queue full
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self._client.disconnect()
        self._client.loop_stop()
        self._thread = None
        if self._owns_outbox:
            self.outbox.close()

    def publish_event(self, event: VehicleEvent) -> int:
        """Store the event in the outbox (durable on return) and schedule it; return its outbox row id.

        Raises `edge.outbox.OutboxFull` when the outbox is at its bound: the event is NOT stored.
        """
        row_id = self.outbox.put(self.topics.events(event.camera), event.to_json(), qos=1)
        self._wake()
        return row_id

    def publish_camera_state(self, state: CameraState) -> None:
        """Publish the camera's state, retained. Only the latest state per camera is kept (in memory) and
        it is re-sent on every connect, so the broker ends up with the current one after an outage."""
        with self._cond:
            self._states[state.camera] = state
            self._dirty.add(state.camera)
            self._kick = True
            self._cond.notify_all()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or `timeout` seconds passed; return `connected`."""
        with self._cond:
            return self._cond.wait_for(lambda: self._connected, timeout)

    def drain(self, timeout: float) -> bool:
        """Block until the outbox is empty (everything acknowledged) or `timeout`; True when empty."""
        with self._cond:
            return self._cond.wait_for(lambda: self.outbox.depth == 0, timeout)

    # -- paho callbacks (network thread): short, never raise, never call paho under our lock ---------
    def _backoff(self) -> None:
        # paho annotates int seconds but computes with floats; sub-second backoff keeps tests fast.
        backoff = self.cfg.reconnect
        self._client.reconnect_delay_set(backoff.initial_s, backoff.max_s)  # type: ignore[arg-type]

    def _set_will(self) -> None:
        will = SiteStatus("offline", now()).to_json()
        self._client.will_set(self.topics.status, will, qos=1, retain=True)

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        self.connect_attempts += 1
        self._set_will()
        if self._auth_refused and self.cfg.username is not None:
            try:  # pick up a corrected password without a restart
                client.username_pw_set(self.cfg.username, self.cfg.read_password())
            except (OSError, LookupError) as exc:
                log.error("cannot read the MQTT password (%s): %s", _password_source(self.cfg), exc)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, props: Any
    ) -> None:
        if rc.is_failure:
            self._refused(client, rc)
            return
        if self._auth_refused:
            log.warning("broker %s accepted user %r now", self.broker, self.cfg.username)
            self._auth_refused = False
            self._backoff()
        self._unreachable = False
        self.connects += 1
        receive_maximum = getattr(props, "ReceiveMaximum", None)  # MQTT 5: the broker's in-flight limit
        if receive_maximum is not None and receive_maximum < self.cfg.max_inflight:
            self._window = max(1, receive_maximum - 1)  # paho's own cap cannot change while connected
            limit = "broker %s allows %d messages in flight: set mqtt.max_inflight <= %d"
            log.warning(limit, self.broker, receive_maximum, self._window)
        log.info(
            "connected to MQTT broker %s",
            self.broker,
            extra={"client_id": self.cfg.client_id, "session_present": flags.session_present},
        )
        with self._cond:
            self._connected = True
            self._generation += 1
            self._status_due = True
            self._dirty = set(self._states)
            self._kick = True
            self._cond.notify_all()

    def _refused(self, client: mqtt.Client, rc: ReasonCode) -> None:
        if rc.value in _BUSY:
            log.warning("broker %s refused the connection: %s; retrying with backoff", self.broker, rc)
            return
        # Retrying quickly cannot fix credentials, an invalid client id or an unsupported protocol.
        client.reconnect_delay_set(self.auth_retry_s, self.auth_retry_s)  # type: ignore[arg-type]
        if rc.value in _AUTH_REFUSED:
            self.auth_failures += 1
            if not self._auth_refused:
                log.error(
                    "MQTT broker %s refused user %r: %s; check mqtt.username and the password (%s); "
                    "retrying every %g s",
                    self.broker,
                    self.cfg.username,
                    rc,
                    _password_source(self.cfg),
                    self.auth_retry_s,
                )
            self._auth_refused = True
        else:
            log.error(
                "MQTT broker %s refused the connection: %s (client id %r, protocol %s); retrying every %g s",
                self.broker,
                rc,
                self.cfg.client_id,
                self.cfg.protocol,
                self.auth_retry_s,
            )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        exc = sys.exc_info()[1]  # paho calls this inside its `except OSError` block
        if not self._unreachable:
            self._unreachable = True
            log.warning(
                "cannot connect to MQTT broker %s: %s; retrying with backoff", self.broker, exc or "failed"
            )
        else:
            log.debug("still cannot connect to %s: %s", self.broker, exc)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags, rc: ReasonCode, props: Any
    ) -> None:
        with self._cond:
            was_connected, self._connected = self._connected, False
            if was_connected:
                self._generation += 1
                self._cond.notify_all()
            stopping = self._stopping
        if was_connected and not stopping:
            log.warning("lost the connection to MQTT broker %s: %s; reconnecting", self.broker, rc)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: ReasonCode, props: Any) -> None:
        with self._cond:
            self._acks.append((self._generation, mid, rc))
            self._kick = True
            self._cond.notify_all()

    # -- the pump thread ---------------------------------------------------------------------------
    def _wake(self) -> None:
        with self._cond:
            self._kick = True
            self._cond.notify_all()

    def _pump(self) -> None:
        generation = 0
        inflight: dict[int, int] = {}  # mid -> outbox row id, this connection only
        after = 0  # highest row id handed to paho on this connection
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._kick or (self._stopping and not inflight), 0.1 if self._stopping else 1.0
                )
                self._kick = False
                stopping, connected, current = self._stopping, self._connected, self._generation
                if stopping and (not inflight or not connected or time.monotonic() > self._stop_deadline):
                    return
                acks, self._acks = self._acks, []
                status_due = connected and self._status_due and not stopping
                states = [self._states[c] for c in sorted(self._dirty)] if connected else []
                if connected:
                    self._status_due = False
                    self._dirty.clear()
            try:
                self._settle(acks, generation, inflight)  # PUBACKs of the previous connection still count
                if current != generation:  # (re)connected or disconnected: replay from the oldest row
                    generation, after = current, 0
                    inflight.clear()
                if status_due:
                    self._client.publish(self.topics.status, SiteStatus("online", now()).to_json(), 1, True)
                for state in states:
                    self._client.publish(self.topics.state(state.camera), state.to_json(), 1, True)
                room = self._window - len(inflight)
                if connected and not stopping and room > 0:
                    after = self._send(after, room, inflight)
            except Exception:  # a full disk or a closed outbox: keep the thread, retry on the next wake
                log.exception("MQTT outbox pump failed; retrying")
                time.sleep(1.0)

    def _settle(
        self, acks: list[tuple[int, int, ReasonCode]], generation: int, inflight: dict[int, int]
    ) -> None:
        done: list[int] = []
        for ack_generation, mid, rc in acks:
            row_id = inflight.pop(mid, None) if ack_generation == generation else None
            if row_id is None:
                continue  # status/state messages, or a PUBACK from an earlier connection
            if not rc.is_failure:
                done.append(row_id)
                self.events_published += 1
            elif rc.value in _PUBACK_PERMANENT:
                done.append(row_id)
                self.events_rejected += 1
                item = self.outbox.pending(after=row_id - 1, limit=1)
                topic = item[0].topic if item and item[0].id == row_id else "?"
                log.error(
                    "broker %s rejected an event on %s: %s; dropped (check the ACL)", self.broker, topic, rc
                )
            else:
                log.warning(
                    "broker %s did not accept an event: %s; retrying after reconnect", self.broker, rc
                )
        if done:
            self.outbox.ack_many(done)
            with self._cond:
                self._cond.notify_all()  # drain() waiters

    def _send(self, after: int, room: int, inflight: dict[int, int]) -> int:
        for item in self.outbox.pending(after=after, limit=room):
            info = self._client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break  # not connected any more: on_disconnect bumps the generation and we replay
            inflight[info.mid] = item.id
            after = item.id
        return after
