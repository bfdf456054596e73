#!/usr/bin/env bash
# `make demo`: the whole product on this machine. Starts a local mosquitto and an RTSP server playing the
# bundled demo clip (demo/gate.mp4: three cars drive up to a barrier, stop and drive through), runs the
# gate daemon on it (`plate-edge run`, config derived from config/demo.yaml with free ports), and prints
# the MQTT events as they arrive (`plate-edge events`). Stops everything after DEMO_SECONDS (default 60)
# or Ctrl-C. Logs: build/demo-run/{daemon,mosquitto,rtsp}.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=${VENV:-.venv}
SECONDS_TO_RUN=${DEMO_SECONDS:-60}
RUN=build/demo-run
rm -rf "$RUN/state"
mkdir -p "$RUN"

read -r MQTT_PORT RTSP_PORT HTTP_PORT < <("$VENV/bin/python" - <<'PY'
import socket
ports = []
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    ports.append(s.getsockname()[1])
print(*ports)
PY
)

cat >"$RUN/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
CONF

"$VENV/bin/python" - "$RUN" "$MQTT_PORT" "$RTSP_PORT" "$HTTP_PORT" <<'PY'
import sys
from pathlib import Path

import yaml

run, mqtt_port, rtsp_port, http_port = Path(sys.argv[1]), *map(int, sys.argv[2:])
config = yaml.safe_load(Path("config/demo.yaml").read_text(encoding="utf-8"))
config["mqtt"]["port"] = mqtt_port
config["cameras"][0]["url"] = f"rtsp://127.0.0.1:{rtsp_port}/entry"
config["storage"]["state_dir"] = str((run / "state").resolve())
config["http"]["port"] = http_port
(run / "site.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
PY

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mosquitto -c "$RUN/mosquitto.conf" >"$RUN/mosquitto.log" 2>&1 &
pids+=($!)
/usr/bin/python3 tests/support/rtsp_server.py --port "$RTSP_PORT" --file demo/gate.mp4 --mount /entry \
    >"$RUN/rtsp.log" 2>&1 &
pids+=($!)
sleep 1
echo "demo: broker 127.0.0.1:$MQTT_PORT, camera rtsp://127.0.0.1:$RTSP_PORT/entry, http://127.0.0.1:$HTTP_PORT/"
echo "demo: expecting $(python3 -c 'import json;print(", ".join(v["text"] for v in json.load(open("demo/gate.json"))["vehicles"]))')"
"$VENV/bin/plate-edge" run --config "$RUN/site.yaml" >"$RUN/daemon.log" 2>&1 &
pids+=($!)
"$VENV/bin/plate-edge" events --config "$RUN/site.yaml" --timeout "$SECONDS_TO_RUN" || true
echo "demo: done; the daemon's log is $RUN/daemon.log, snapshots are under $RUN/state/snapshots"
