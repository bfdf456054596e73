"""The broker connection part of the config schema (`mqtt:`): address, TLS, credentials, session.

A literal password is refused in the YAML (it would end up in backups and support tickets); it comes
from a file (a systemd credential) or an environment variable, read on demand and never stored.
"""

import os
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from edge.config_types import Backoff, ConfigPath, StrictModel


class TlsConfig(StrictModel):
    """TLS to the broker. An empty mapping (`tls: {}`) means TLS with the system trust store."""

    ca_file: ConfigPath | None = Field(
        default=None,
        description="PEM bundle of the CA that signed the broker certificate; omit for system CAs.",
    )
    cert_file: ConfigPath | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    key_file: ConfigPath | None = Field(
        default=None, description="Private key (PEM) of cert_file; keep it 0600."
    )

    @model_validator(mode="after")
    def _pair(self) -> "TlsConfig":
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both for mutual TLS, or neither")
        return self


_PASSWORD_HELP = (
    "a literal password is not accepted in the config file; put it in a file and set password_file "
    "(with systemd: LoadCredential=mqtt-password:/etc/plate-edge/mqtt-password and "
    "password_file: /run/credentials/plate-edge.service/mqtt-password, i.e. $CREDENTIALS_DIRECTORY), "
    "or name an environment variable in password_env"
)


class MqttConfig(StrictModel):
    """The broker that receives events (QoS 1, at-least-once through the on-disk outbox)."""

    host: str = Field(min_length=1, description="Broker host name or IP address.")
    port: int = Field(
        default=1883, ge=1, le=65535, description="Broker port; defaults to 8883 when `tls` is set."
    )
    tls: TlsConfig | None = Field(default=None, description="TLS settings; omit (or null) for plain TCP.")
    username: str | None = Field(
        default=None, min_length=1, description="User name; omit for anonymous access."
    )
    password_file: ConfigPath | None = Field(
        default=None,
        description="File holding the password (trailing newline ignored); see systemd LoadCredential.",
    )
    password_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of an environment variable holding the password (alternative to password_file).",
    )
    password: None = Field(
        default=None, exclude=True, repr=False, description="Not accepted: use password_file or password_env."
    )
    client_id: str = Field(
        default="plate-edge",
        min_length=1,
        max_length=128,
        description="MQTT client id, default `plate-edge-<site>`; unique per broker (a twin kicks it off).",
    )
    keepalive_s: int = Field(
        default=30,
        ge=5,
        le=3600,
        description="Ping interval; the broker publishes our offline Last Will about 1.5x this after a cut.",
    )
    protocol: Literal["3.1.1", "5"] = Field(default="3.1.1", description="MQTT protocol version.")
    max_inflight: int = Field(
        default=20, ge=1, le=65535, description="Unacknowledged QoS 1 messages allowed in flight at once."
    )
    qos: Literal[1] = Field(default=1, description="Fixed at 1: events are delivered at least once (design).")
    reconnect: Backoff = Field(
        default=Backoff(initial_s=1.0, max_s=60.0), description="Backoff between broker reconnect attempts."
    )

    @model_validator(mode="before")
    @classmethod
    def _tls_port(cls, data: Any) -> Any:
        # Same convention as mosquitto's clients: TLS without an explicit port means 8883.
        if isinstance(data, dict) and data.get("tls") is not None and "port" not in data:
            return {**data, "port": 8883}
        return data

    @field_validator("password", mode="before")
    @classmethod
    def _no_literal_password(cls, value: object) -> None:
        raise ValueError(_PASSWORD_HELP)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_text(cls, value: object) -> object:
        # YAML reads `protocol: 5` as an int; accept it rather than demand quotes.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _credentials(self) -> "MqttConfig":
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        if self.username is None and (self.password_file is not None or self.password_env is not None):
            raise ValueError("a password needs a username (MQTT 3.1.1 sends no password without one)")
        return self

    def read_password(self) -> str | None:
        """The broker password from password_file or password_env, or None when anonymous.

        Read on demand, not at load time, so the secret is never part of the config object (and never
        shows in its repr or in a dump). Raises OSError / LookupError with the source named.
        """
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise LookupError(f"environment variable {self.password_env} (mqtt.password_env) is not set")
            return value
        return None
