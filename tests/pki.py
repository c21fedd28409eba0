"""A throwaway certificate authority for TLS and mTLS tests (server and client certificates)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Pki:
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


def make_pki(client: str = "hookd client") -> Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate named
    ``client``, all signed by the CA (PEM text)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("hookd test CA"))
        .issuer_name(_name("hookd test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common: str, usage: x509.ObjectIdentifier) -> tuple[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return _pem(builder.sign(ca_key, hashes.SHA256())), _key_pem(key)

    server_cert, server_key = leaf("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH)
    client_cert, client_key = leaf(client, ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(_pem(ca), server_cert, server_key, client_cert, client_key)


class MutualTlsServer:
    """An HTTPS server on 127.0.0.1 (blocking sockets, in a thread) that requires a client
    certificate from ``pki``'s CA and answers 200 to a request that presents one.

    A client without a certificate is refused as OpenSSL, nginx, Go or Node refuse it: with a
    TLS alert (``certificate required``). asyncio's own TLS servers (aiohttp's) close such a
    connection without flushing the alert, so a client cannot tell why it was closed.
    """

    def __init__(self, pki: Pki, directory: Path) -> None:
        (directory / "server.pem").write_text(pki.server_cert)
        (directory / "server.key").write_text(pki.server_key)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(directory / "server.pem", directory / "server.key")
        self._context.load_verify_locations(cadata=pki.ca)
        self._context.verify_mode = ssl.CERT_REQUIRED
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.refused = 0  # handshakes that failed on the server's side
        self.answered = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/hook"

    def start(self) -> MutualTlsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._socket.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._socket.accept()
            except OSError:
                return  # stopped
            raw.settimeout(5)
            with self._context.wrap_socket(
                raw, server_side=True, do_handshake_on_connect=False
            ) as conn:
                try:
                    conn.do_handshake()
                except ssl.SSLError:
                    self.refused += 1  # OpenSSL has sent the alert
                    self._linger(conn)
                    continue
                with contextlib.suppress(OSError):
                    self._answer(conn)

    @staticmethod
    def _linger(conn: ssl.SSLSocket) -> None:
        """Close once the client has read the alert: closing with the client's request unread
        would reset the connection, and a reset discards the alert on the client's side."""
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(65536):
                pass

    def _answer(self, conn: ssl.SSLSocket) -> None:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            if not chunk:
                return
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        self.answered += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
