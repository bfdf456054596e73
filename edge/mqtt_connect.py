"""Building a paho-mqtt 2 client from the config's `mqtt` section: protocol, TLS, credentials.

Shared by the daemon's publisher (`edge.publisher`) and `plate-edge events`, so both reach a secured
broker the same way. TLS uses `ssl.create_default_context`: certificate chain AND host name verified,
TLS 1.2 or later; `tls: {}` trusts the system CAs.
"""

from __future__ import annotations

import logging
import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.config_schema import MqttConfig

__all__ = ["apply_connection_options", "new_client"]


def apply_connection_options(client: mqtt.Client, cfg: MqttConfig) -> None:
    """TLS (CA, optional client certificate) and user name/password from the config, on a new client.

    Raises OSError/ssl.SSLError for unreadable TLS files and OSError/LookupError for the password source.
    """
    if cfg.tls is not None:
        ca = str(cfg.tls.ca_file) if cfg.tls.ca_file is not None else None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)  # verifies the host name
        if cfg.tls.cert_file is not None and cfg.tls.key_file is not None:
            context.load_cert_chain(str(cfg.tls.cert_file), str(cfg.tls.key_file))
        client.tls_set_context(context)
    if cfg.username is not None:
        client.username_pw_set(cfg.username, cfg.read_password())


def new_client(cfg: MqttConfig, client_id: str, *, persistent: bool) -> mqtt.Client:
    """A paho 2 client (callback API 2) for `cfg.protocol`; `persistent` keeps the session (3.1.1)."""
    if cfg.protocol == "5":
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
    client.suppress_exceptions = True  # a bug in a callback must not end the network thread (logged instead)
    paho_log = logging.getLogger("edge.paho")
    if not any(isinstance(f, _NotConnectedNoise) for f in paho_log.filters):
        paho_log.addFilter(_NotConnectedNoise())
    client.enable_logger(paho_log)
    apply_connection_options(client, cfg)
    return client


class _NotConnectedNoise(logging.Filter):
    """Drops paho 2.2's "Client is not connected" ERROR, which its network loop logs once when it comes
    round after a clean `disconnect()` (every daemon stop). Real connection losses are reported by the
    publisher's own disconnect callback, with the broker's name and the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")
