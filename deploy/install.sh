#!/usr/bin/env bash
# Install plate-edge on a gate box (or into a throwaway root with --prefix), or remove it.
#
#   sudo deploy/install.sh                 # CPU or GPU flavour decided by `nvidia-smi -L`
#   sudo deploy/install.sh --gpu           # onnxruntime-gpu and the GPU drop-in
#   sudo deploy/install.sh --uninstall     # code, venv, unit; keeps /etc/plate-edge and the state
#   sudo deploy/install.sh --uninstall --purge
#
# Layout (PREFIX defaults to /):
#   PREFIX/opt/plate-edge/          code (edge/), models/ (the ONNX files manifest.json names), pyproject,
#                                   README, config and deploy examples
#   PREFIX/opt/plate-edge/venv/     Python virtualenv with the package and onnxruntime (cpu) or
#                                   onnxruntime-gpu
#   PREFIX/etc/plate-edge/          site.yaml (only written when absent), site.example.yaml (always fresh)
#   PREFIX/etc/systemd/system/      plate-edge.service (+ plate-edge.service.d/gpu.conf with --gpu)
#
# Why an editable install (`pip install -e /opt/plate-edge`): the package finds its models next to its
# code (edge/runtime.py: DEFAULT_MODELS_DIR is edge/../models), so the code stays in /opt/plate-edge/edge
# with /opt/plate-edge/models beside it and an operator's config needs no models_dir. The tree is a plain
# copy owned by root and read-only to the service (ProtectSystem=strict); "editable" only means the venv
# imports it from there instead of from a copy in site-packages.
#
# Idempotent: a second run replaces the code and models with the same files, lets pip confirm the venv
# (quick when nothing changed), keeps an existing site.yaml, and re-enables the unit. It never restarts a
# running service: the operator picks the moment (a gate in use must not lose its reader mid-car).
#
# --prefix other than / makes a self-contained tree for tests and inspection: it works in place (the venv
# records its own path), no group is created, files are not chowned and systemctl is never called.
set -Eeuo pipefail  # -E: the ERR trap below also fires inside functions

PROG=$(basename "$0")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNIT=plate-edge.service
GROUP=plate-edge

PREFIX=/
FLAVOUR=auto
PYTHON=""
PIP_ARGS=()
RUN_SYSTEMCTL=1
ACTION=install
PURGE=0

usage() {
    cat <<EOF
Usage: $PROG [OPTIONS]

Install plate-edge into PREFIX/opt/plate-edge with its own virtualenv, the example config into
PREFIX/etc/plate-edge (never overwriting site.yaml) and the systemd unit; enable the unit when PREFIX is /
and systemd runs. Safe to run again (upgrade = run it again from the new source tree).

Exit status: 0 done, 1 failed (the message says where; running again is safe), 2 bad usage.

Options:
  --prefix DIR      install root (default /); anything else is a self-contained tree for tests
  --cpu | --gpu     onnxruntime flavour (default: --gpu when \`nvidia-smi -L\` lists a GPU, else --cpu)
  --python PY       interpreter for the venv (default: first of python3.11 python3.12 python3.13 python3
                    that is Python >= 3.11)
  --pip-args ARGS   extra pip arguments, split on spaces (e.g. "--no-index --find-links /media/wheels"
                    for an offline box); PIP_* environment variables (PIP_FIND_LINKS, PIP_INDEX_URL) work too
  --no-systemctl    do not run systemctl (daemon-reload, enable) even when PREFIX is /
  --uninstall       remove the code, the venv and the unit (stops and disables the service first);
                    keeps PREFIX/etc/plate-edge and PREFIX/var/lib/plate-edge
  --purge           with --uninstall: also remove PREFIX/etc/plate-edge, the state (outbox, snapshots)
                    and the plate-edge group
  -h, --help        this help

After a first install: edit PREFIX/etc/plate-edge/site.yaml, put the MQTT password in
PREFIX/etc/plate-edge/mqtt-password (mode 0600), check with
  PREFIX/opt/plate-edge/venv/bin/plate-edge check-config --strict PREFIX/etc/plate-edge/site.yaml
then \`systemctl start plate-edge\`.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }
# Any failing command ends the script (set -e); say where, and that running again is the fix.
on_error() {
    printf '%s: error: failed (exit %s) at line %s: %s\n' "$PROG" "$1" "$2" "$3" >&2
    printf '%s: fix the cause and run it again (it is idempotent)\n' "$PROG" >&2
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --cpu) FLAVOUR=cpu; shift ;;
        --gpu) FLAVOUR=gpu; shift ;;
        --python) [ $# -ge 2 ] || usage_error "--python needs an interpreter"; PYTHON=$2; shift 2 ;;
        --python=*) PYTHON=${1#*=}; shift ;;
        --pip-args) [ $# -ge 2 ] || usage_error "--pip-args needs a value"; read -r -a PIP_ARGS <<<"$2"; shift 2 ;;
        --pip-args=*) read -r -a PIP_ARGS <<<"${1#*=}"; shift ;;
        --no-systemctl) RUN_SYSTEMCTL=0; shift ;;
        --uninstall) ACTION=uninstall; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option: $1" ;;
    esac
done

[ "$PURGE" -eq 0 ] || [ "$ACTION" = uninstall ] || usage_error "--purge only goes with --uninstall"
case "$PREFIX" in
    /*) ;;
    *) usage_error "--prefix must be an absolute path, got '$PREFIX'" ;;
esac
PREFIX=${PREFIX%/}  # "/" becomes "", so "$PREFIX/opt" is "/opt"
SYSTEM_ROOT=0
[ -n "$PREFIX" ] || SYSTEM_ROOT=1
if [ "$SYSTEM_ROOT" -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
    die "installing into / needs root (sudo $PROG ...), or use --prefix DIR"
fi

APP=$PREFIX/opt/plate-edge
VENV=$APP/venv
ETC=$PREFIX/etc/plate-edge
UNIT_DIR=$PREFIX/etc/systemd/system
DROPIN_DIR=$UNIT_DIR/$UNIT.d
STATE=$PREFIX/var/lib/plate-edge
STATE_PRIVATE=$PREFIX/var/lib/private/plate-edge  # where DynamicUser= really keeps StateDirectory=

# systemctl only on a real system root where systemd is PID 1 (not in a container or chroot without it).
use_systemctl() {
    [ "$SYSTEM_ROOT" -eq 1 ] && [ "$RUN_SYSTEMCTL" -eq 1 ] && [ -d /run/systemd/system ] \
        && command -v systemctl >/dev/null 2>&1
}

# ------------------------------------------------------------------------------------------------------
uninstall() {
    if use_systemctl; then
        if systemctl list-unit-files "$UNIT" >/dev/null 2>&1; then
            say "stopping and disabling $UNIT"
            systemctl disable --now "$UNIT" || true
        fi
    fi
    say "removing $APP, $UNIT_DIR/$UNIT and $DROPIN_DIR/gpu.conf"
    rm -rf -- "$APP"
    rm -f -- "$UNIT_DIR/$UNIT" "$DROPIN_DIR/gpu.conf"
    rmdir -- "$DROPIN_DIR" 2>/dev/null || true  # only if empty: an operator's own drop-ins stay
    if [ "$PURGE" -eq 1 ]; then
        say "purging $ETC, $STATE and $STATE_PRIVATE (config, outbox, snapshots)"
        rm -rf -- "$ETC" "$STATE" "$STATE_PRIVATE"
        if [ "$SYSTEM_ROOT" -eq 1 ] && getent group "$GROUP" >/dev/null 2>&1; then
            groupdel "$GROUP" || say "warning: could not remove group $GROUP"
        fi
    else
        [ -d "$ETC" ] && say "kept $ETC (config and secrets); --purge removes it"
        if [ -e "$STATE" ] || [ -e "$STATE_PRIVATE" ]; then
            say "kept the state in $STATE (outbox, snapshots); --purge removes it"
        fi
    fi
    if use_systemctl; then
        systemctl daemon-reload
        systemctl reset-failed "$UNIT" 2>/dev/null || true
    fi
    say "uninstalled"
}

# ------------------------------------------------------------------------------------------------------
find_python() {
    local candidates=(python3.11 python3.12 python3.13 python3)
    [ -z "$PYTHON" ] || candidates=("$PYTHON")
    local py
    for py in "${candidates[@]}"; do
        if command -v "$py" >/dev/null 2>&1 \
            && "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    done
    die "no Python >= 3.11 with the venv module among: ${candidates[*]} (Debian: apt install python3-venv)"
}

detect_flavour() {
    if [ "$FLAVOUR" != auto ]; then
        echo "$FLAVOUR"
    elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
        echo gpu
    else
        echo cpu
    fi
}

# Replace DEST with a fresh copy of SRC_DIR (no caches), via a temporary name in the same directory so a
# failed copy never leaves half a tree in place.
replace_dir() {
    local src_dir=$1 dest=$2
    rm -rf -- "$dest.new"
    cp -R -- "$src_dir" "$dest.new"
    find "$dest.new" -name __pycache__ -type d -prune -exec rm -rf {} +
    rm -rf -- "$dest"
    mv -- "$dest.new" "$dest"
}

copy_code() {
    local py=$1
    say "copying the code and models from $SRC to $APP"
    mkdir -p -- "$APP"
    replace_dir "$SRC/edge" "$APP/edge"
    replace_dir "$SRC/config" "$APP/config"
    replace_dir "$SRC/deploy" "$APP/deploy"
    install -m 0644 -- "$SRC/pyproject.toml" "$SRC/README.md" "$APP/"
    # Only what the manifest names (no training checkpoints or contact sheets): what the runtime loads and
    # checks against the manifest's sha256.
    rm -rf -- "$APP/models.new"
    mkdir -p -- "$APP/models.new"
    install -m 0644 -- "$SRC/models/manifest.json" "$APP/models.new/"
    local file
    while IFS= read -r file; do
        [ -f "$SRC/models/$file" ] || die "models/manifest.json names $file, which is missing in $SRC/models"
        install -m 0644 -- "$SRC/models/$file" "$APP/models.new/$file"
    done < <("$py" -c 'import json, sys
for entry in json.load(open(sys.argv[1]))["models"].values():
    print(entry["file"])' "$SRC/models/manifest.json")
    rm -rf -- "$APP/models"
    mv -- "$APP/models.new" "$APP/models"
}

make_venv() {
    local py=$1 flavour=$2
    if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say "the existing venv's Python is broken or too old: recreating $VENV"
        rm -rf -- "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtualenv $VENV with $py ($("$py" --version 2>&1))"
        "$py" -m venv "$VENV"
    fi
    # The two onnxruntime wheels install the same module and clobber each other: switching flavour means
    # removing the other one first.
    local other=onnxruntime-gpu
    [ "$flavour" = cpu ] || other=onnxruntime
    if "$VENV/bin/python" -m pip show -q "$other" >/dev/null 2>&1; then
        say "switching flavour: removing $other"
        "$VENV/bin/python" -m pip uninstall -y -q "$other"
    fi
    say "installing plate-edge[$flavour] into $VENV (pip)"
    PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$VENV/bin/python" -m pip install -q "${PIP_ARGS[@]}" -e "${APP}[${flavour}]"
    # The editable build leaves its metadata in the source folder; the venv has its own copy.
    rm -rf -- "$APP"/*.egg-info "$APP/build"
    # /opt is read-only to the service (ProtectSystem=strict): compile now, or every start recompiles in
    # memory and tries to write __pycache__ in vain.
    "$VENV/bin/python" -m compileall -q "$APP/edge" >/dev/null
}

install_config() {
    mkdir -p -- "$ETC"
    install -m 0644 -- "$SRC/config/site.example.yaml" "$ETC/site.example.yaml"
    install -m 0644 -- "$SRC/config/allow.example.txt" "$ETC/allow.example.txt"
    if [ -e "$ETC/site.yaml" ]; then
        say "kept the existing $ETC/site.yaml (the fresh example is $ETC/site.example.yaml)"
    else
        say "wrote $ETC/site.yaml from the example: edit it before starting the service"
        install -m 0640 -- "$SRC/config/site.example.yaml" "$ETC/site.yaml"
    fi
    chmod 0750 "$ETC"
    if [ "$SYSTEM_ROOT" -eq 1 ]; then
        # The service's dynamic user reads the config through this group (SupplementaryGroups= in the unit);
        # site.yaml holds camera credentials, so it is not world-readable. Secrets (mqtt-password, TLS
        # keys) are left as the operator made them: mqtt-password is read by systemd as root
        # (LoadCredential=); TLS keys must be group plate-edge, mode 0640.
        if ! getent group "$GROUP" >/dev/null 2>&1; then
            say "creating the system group $GROUP"
            groupadd --system "$GROUP"
        fi
        chgrp "$GROUP" "$ETC" "$ETC/site.yaml"
        chmod 0640 "$ETC/site.yaml"
    fi
}

install_unit() {
    local flavour=$1
    mkdir -p -- "$UNIT_DIR"
    install -m 0644 -- "$SRC/deploy/$UNIT" "$UNIT_DIR/$UNIT"
    if [ "$flavour" = gpu ]; then
        mkdir -p -- "$DROPIN_DIR"
        install -m 0644 -- "$SRC/deploy/plate-edge-gpu.conf" "$DROPIN_DIR/gpu.conf"
    else
        rm -f -- "$DROPIN_DIR/gpu.conf"
        rmdir -- "$DROPIN_DIR" 2>/dev/null || true
    fi
    if [ "$flavour" = gpu ]; then
        say "installed $UNIT_DIR/$UNIT and the GPU drop-in $DROPIN_DIR/gpu.conf"
    else
        say "installed $UNIT_DIR/$UNIT"
    fi
    if use_systemctl; then
        systemctl daemon-reload
        systemctl enable "$UNIT"
        if systemctl is-active -q "$UNIT"; then
            say "the service is running the previous version: \`systemctl restart $UNIT\` when the gate is quiet"
        else
            say "enabled $UNIT; start it with \`systemctl start $UNIT\` once site.yaml is ready"
        fi
    elif [ "$SYSTEM_ROOT" -eq 1 ]; then
        say "systemd is not running here (or --no-systemctl): run \`systemctl daemon-reload && systemctl enable $UNIT\` yourself"
    fi
}

install_all() {
    if [ ! -f "$SRC/pyproject.toml" ] || [ ! -d "$SRC/edge" ] || [ ! -f "$SRC/models/manifest.json" ]; then
        die "$SRC does not look like a plate-edge source tree (pyproject.toml, edge/, models/manifest.json)"
    fi
    local py flavour started
    started=$(date +%s)
    py=$(find_python)
    flavour=$(detect_flavour)
    say "installing into ${PREFIX:-/} (flavour: $flavour, python: $py)"
    copy_code "$py"
    make_venv "$py" "$flavour"
    install_config
    install_unit "$flavour"
    printf 'version=%s\nflavour=%s\nsource=%s\ninstalled=%s\n' \
        "$("$VENV/bin/plate-edge" --version | awk '{print $2}')" "$flavour" "$SRC" "$(date -u +%FT%TZ)" \
        >"$APP/INSTALLED"
    say "done in $(($(date +%s) - started)) s: $("$VENV/bin/plate-edge" --version) ($flavour)"
    say "check the config: $VENV/bin/plate-edge check-config --strict $ETC/site.yaml"
}

case "$ACTION" in
    install) install_all ;;
    uninstall) uninstall ;;
esac
