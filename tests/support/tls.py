"""Throw-away certificates for TLS tests, made with the ``openssl`` command line (EC P-256: fast)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
_NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_CA_EXT = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


def _run(*args: str | Path) -> None:
    subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True, timeout=30)


def make_ca(folder: Path, name: str = "ca") -> CertPair:
    """A self-signed CA valid for two days."""
    folder.mkdir(parents=True, exist_ok=True)
    pair = CertPair(folder / f"{name}.pem", folder / f"{name}.key")
    _run(
        "req",
        "-x509",
        *_NEW_KEY,
        *_CA_EXT,
        "-keyout",
        pair.key,
        "-out",
        pair.cert,
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
    )
    return pair


def make_cert(ca: CertPair, folder: Path, name: str, *, server: bool) -> CertPair:
    """A leaf certificate signed by ``ca``: a server one for 127.0.0.1/localhost, or a client one."""
    pair = CertPair(folder / f"{name}.pem", folder / f"{name}.key")
    csr, ext = folder / f"{name}.csr", folder / f"{name}.ext"
    usage = "serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost" if server else "clientAuth"
    ext.write_text(f"basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n")
    _run("req", *_NEW_KEY, "-keyout", pair.key, "-out", csr, "-subj", f"/CN={name}")
    signing: list[str | Path] = [
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        ext,
    ]
    _run("x509", "-req", "-in", csr, *signing, "-out", pair.cert)
    pair.key.chmod(0o600)
    return pair


@dataclass(frozen=True)
class Pki:
    """A CA with a server certificate (127.0.0.1), a client certificate (``gate-1``), and a second CA that
    signed nothing we use (for "untrusted" cases)."""

    ca: CertPair
    server: CertPair
    client: CertPair
    other_ca: CertPair


def make_pki(folder: Path) -> Pki:
    ca = make_ca(folder)
    return Pki(
        ca,
        make_cert(ca, folder, "server", server=True),
        make_cert(ca, folder, "gate-1", server=False),
        make_ca(folder, "other-ca"),
    )
