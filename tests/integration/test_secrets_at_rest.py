"""Secrets at rest: after a scenario that sets every kind of secret, delivers and ingests, none
of them is in the database's files (SQLite: the file, its -wal and -shm; PostgreSQL: every
row of every table) nor in a debug-level log; a wrong or missing main key refuses to start."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from hookd.core.signing import generate_ed25519_secret
from hookd.store import sealing
from tests.integration.inbound.signers import github_headers
from tests.launcher import run_hookd
from tests.pg import create_database, drop_database
from tests.pki import make_pki
from tests.support import TOKEN, HookdServer, Receiver, eventually, parsed_log_lines


def whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


@dataclass
class Planted:
    """Every secret the scenario set, as text, and the byte strings to look for."""

    texts: dict[str, str] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, value: str) -> str:
        self.texts[name] = value
        if value.startswith(("whsec_", "whsk_")):  # the key itself, decoded
            self.raw[f"{name} (key bytes)"] = base64.b64decode(value.split("_", 1)[1])
        return value

    def needles(self) -> Iterator[tuple[str, bytes]]:
        for name, value in self.texts.items():
            yield name, value.encode()
            if value.startswith("-----BEGIN"):  # a PEM: any line of its body
                yield f"{name} (PEM line)", value.splitlines()[2].encode()
        yield from self.raw.items()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server' / 'hookd.db'}"
        return
    url = create_database()
    yield url
    drop_database(url)


async def test_no_secret_in_the_database_files_or_a_debug_log(
    database: str, tmp_path: Path, receiver: Receiver
) -> None:
    main_key = sealing.new_main_key()
    server = HookdServer(
        tmp_path / "server",
        env={
            "HOOKD_DATABASE_URL": database,
            "HOOKD_LOG_LEVEL": "debug",
            "HOOKD_MAIN_KEY": main_key,
        },
        # A new interpreter: logging set up as `hookd serve` sets it up, debug level included.
        fresh_interpreter=True,
    )
    server.start()
    planted = Planted()
    planted.add("admin token", TOKEN)
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ) as api:
            await run_scenario(api, planted, receiver)
            await stored_link_key(database, main_key, planted)
            while_running = await find_secrets(database, planted)
    finally:
        server.stop()
    assert while_running == []
    assert await find_secrets(database, planted) == []
    log = server.log_path.read_bytes()
    levels = {line["level"] for line in parsed_log_lines(log.decode())}
    assert "debug" in levels  # the log really is at debug level
    assert [name for name, needle in planted.needles() if needle in log] == []


async def run_scenario(api: httpx.AsyncClient, planted: Planted, receiver: Receiver) -> None:
    app = (await api.post("/api/v1/app", json={"name": "secrets"})).json()["id"]
    pki = make_pki()

    async def endpoint(**fields: Any) -> dict[str, Any]:
        answer = await api.post(f"/api/v1/app/{app}/endpoint", json=fields)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    hmac_ep = await endpoint(
        url=receiver.url_for("/hmac"),
        secret=planted.add("endpoint HMAC secret", whsec()),
        headers={"X-Api-Key": planted.add("custom header value", token("header"))},
    )
    ed_ep = await endpoint(
        url=receiver.url_for("/ed25519"),
        secret=planted.add("endpoint Ed25519 secret", generate_ed25519_secret()),
    )
    await endpoint(
        url=receiver.url_for("/basic"),
        auth={"type": "basic", "username": "bot", "password": planted.add("basic", token("pw"))},
    )
    await endpoint(
        url=receiver.url_for("/bearer"),
        auth={"type": "bearer", "token": planted.add("bearer token", token("bearer"))},
    )
    await endpoint(
        url=receiver.url_for("/thin"),
        thin=True,
    )
    # Stored, never sent: no token server and no TLS server here.
    await endpoint(
        url="https://127.0.0.1:9/oauth",
        disabled=True,
        auth={
            "type": "oauth2",
            "tokenUrl": "https://127.0.0.1:9/token",
            "clientId": "client",
            "clientSecret": planted.add("OAuth client secret", token("oauth")),
        },
    )
    await endpoint(
        url="https://127.0.0.1:9/mtls",
        disabled=True,
        tls={
            "clientCert": pki.client_cert,
            "clientKey": planted.add("mTLS private key", pki.client_key),
        },
    )
    # Rotation (with an idempotency key: the kept answer holds the new secret).
    rotated = await api.post(
        f"/api/v1/app/{app}/endpoint/{hmac_ep['id']}/secret/rotate",
        json={"key": planted.add("rotated HMAC secret", whsec())},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert rotated.status_code < 300, rotated.text
    ed_rotated = await api.post(
        f"/api/v1/app/{app}/endpoint/{ed_ep['id']}/secret/rotate",
        json={"key": planted.add("rotated Ed25519 secret", generate_ed25519_secret())},
    )
    assert ed_rotated.status_code < 300, ed_rotated.text

    sent = await api.post(
        f"/api/v1/app/{app}/msg",
        json={"eventType": "order.paid", "payload": {"id": 1}},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert sent.status_code == 201, sent.text
    msg_id = sent.json()["id"]
    await receiver.wait_for(5)

    # Inbound sources: secrets in their configuration, and requests that present them.
    async def source(kind: str, config: dict[str, Any]) -> dict[str, Any]:
        answer = await api.post(
            "/ingest/api/v1/source", json={"name": kind, "type": kind, "config": config}
        )
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        forward = {"url": receiver.url_for(f"/from-{kind}")}
        created = await api.post(f"/ingest/api/v1/source/{made['id']}/endpoint", json=forward)
        assert created.status_code == 201, created.text
        return made

    github_secret = planted.add("GitHub source secret", token("gh"))
    github = await source("github", {"secret": github_secret})
    gitlab = await source("gitlab", {"secret": planted.add("GitLab token", token("gl"))})
    bearer = await source(
        "generic-webhook", {"auth": "bearer", "secret": planted.add("source bearer", token("sb"))}
    )
    meta = await source(
        "meta",
        {
            "secret": planted.add("Meta app secret", token("meta")),
            "verifyToken": planted.add("Meta verify token", token("verify")),
        },
    )
    async with httpx.AsyncClient(timeout=10) as provider:
        body = b'{"zen": "Keep it logically awesome."}'
        answers = [
            await provider.post(
                github["ingestUrl"],
                content=body,
                headers=github_headers(body, github_secret, "push"),
            ),
            await provider.post(
                gitlab["ingestUrl"],
                content=body,
                headers={"X-Gitlab-Token": planted.texts["GitLab token"]},
            ),
            await provider.post(
                bearer["ingestUrl"],
                content=body,
                headers={"Authorization": f"Bearer {planted.texts['source bearer']}"},
            ),
            await provider.get(
                meta["ingestUrl"],
                params={
                    "hub.mode": "subscribe",
                    "hub.verify_token": planted.texts["Meta verify token"],
                    "hub.challenge": "12345",
                },
            ),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200], [a.text for a in answers]
    await receiver.wait_for(8)

    async def recorded() -> bool:
        found = await api.get(f"/api/v1/app/{app}/attempt/msg/{msg_id}")
        return len(found.json()["data"]) >= 5

    await eventually(recorded)


async def stored_link_key(database: str, main_key: str, planted: Planted) -> None:
    """The thin links' HMAC key, opened with the main key (the API never shows it)."""
    query = "SELECT key FROM server_keys WHERE name = 'thin_links'"
    if database.startswith("sqlite"):
        with sqlite3.connect(database.split(":///", 1)[1]) as conn:
            [(stored,)] = conn.execute(query).fetchall()
    else:
        conn = await asyncpg.connect(database)
        try:
            stored = await conn.fetchval(query)
        finally:
            await conn.close()
    assert bytes(stored).startswith(b"hks1.")
    keyring = sealing.Keyring(sealing.parse_main_keys(main_key))
    planted.raw["thin-link key"] = keyring.open(bytes(stored).decode(), "server_keys.key")


async def find_secrets(database: str, planted: Planted) -> list[str]:
    """The names of the planted secrets found in the database's files (SQLite) or rows."""
    if database.startswith("sqlite"):
        path = Path(database.split(":///", 1)[1])
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))]
        found = []
        for file in files:
            if file.exists():
                data = file.read_bytes()
                found += [f"{file.name}: {n}" for n, needle in planted.needles() if needle in data]
        return found
    conn = await asyncpg.connect(database)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        found = []
        for (table,) in tables:
            for row in await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{table}" t'):
                data = row["j"].encode()
                found += [f"{table}: {n}" for n, needle in planted.needles() if needle in data]
                # bytea columns appear as \x... hex in row_to_json
                found += [
                    f"{table}: {n}"
                    for n, needle in planted.needles()
                    if needle.hex().encode() in data
                ]
        return found
    finally:
        await conn.close()


async def test_a_wrong_or_missing_main_key_refuses_to_start(tmp_path: Path) -> None:
    server = HookdServer(tmp_path / "server", env={"HOOKD_MAIN_KEY": sealing.new_main_key()})
    server.start()
    server.stop()
    wrong = HookdServer(tmp_path / "server", env={"HOOKD_MAIN_KEY": sealing.new_main_key()})
    wrong.start(wait_healthy=False)
    assert wrong.process is not None and wrong.process.wait(timeout=30) == 4
    assert "does not open the database's secrets" in wrong.log_path.read_text()
    missing = HookdServer(tmp_path / "server", env={"HOOKD_MAIN_KEY": ""})  # none
    missing.start(wait_healthy=False)
    assert missing.process is not None and missing.process.wait(timeout=30) == 4
    assert "no main key is configured" in missing.log_path.read_text()


def _env(server: HookdServer) -> dict[str, str]:
    return {
        **os.environ,
        "HOOKD_DATABASE_URL": f"sqlite:///{server.data_dir / 'hookd.db'}",
        "HOOKD_ADMIN_TOKEN": TOKEN,
        **server.env,
    }


async def _endpoint_with_secret(server: HookdServer, url: str) -> tuple[str, str, str]:
    """A new application and endpoint; (app id, endpoint id, its secret)."""
    secret = whsec()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as api:
        app = (await api.post("/api/v1/app", json={"name": "rotate"})).json()["id"]
        made = await api.post(
            f"/api/v1/app/{app}/endpoint",
            json={"url": url, "secret": secret, "headers": {"X-Key": "header-value-1"}},
        )
        assert made.status_code == 201, made.text
    return app, made.json()["id"], secret


async def _secret_of(server: HookdServer, app: str, endpoint: str) -> str:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as api:
        shown = await api.get(f"/api/v1/app/{app}/endpoint/{endpoint}/secret")
        assert shown.status_code == 200, shown.text
        key: str = shown.json()["key"]
        return key


async def _stored_key_ids(database: str) -> set[str | None]:
    """The key ids of every endpoint secret and server key (``None``: a plain value)."""
    queries = ("SELECT secret FROM endpoints", "SELECT key FROM server_keys")
    if database.startswith("sqlite"):
        with sqlite3.connect(database.split(":///", 1)[1]) as conn:
            values = [v for query in queries for (v,) in conn.execute(query)]
    else:
        pg = await asyncpg.connect(database)
        try:
            values = [row[0] for query in queries for row in await pg.fetch(query)]
        finally:
            await pg.close()
    return {sealing.sealed_key_id(v) for v in values}


async def test_rotate_main_key_online(database: str, tmp_path: Path, receiver: Receiver) -> None:
    old, new = sealing.new_main_key(), sealing.new_main_key()
    old_id, new_id = (sealing.key_id(sealing.parse_main_keys(k)[0]) for k in (old, new))
    server = HookdServer(
        tmp_path / "server", env={"HOOKD_MAIN_KEY": old, "HOOKD_DATABASE_URL": database}
    )
    server.start()
    try:
        app, endpoint, secret = await _endpoint_with_secret(server, receiver.url)
    finally:
        server.stop()
    assert await _stored_key_ids(database) == {old_id}

    # Both keys (the new one seals), then the re-sealing while the server runs.
    server.env["HOOKD_MAIN_KEY"] = f"{new},{old}"
    server.start()
    try:
        done = run_hookd(["rotate-main-key", "--batch-size", "1"], env=_env(server))
        assert done.returncode == 0, done.stderr
        assert f"'{new_id}': " in done.stderr and old_id not in done.stderr.split("key id")[-1]
        assert await _secret_of(server, app, endpoint) == secret
    finally:
        server.stop()
    assert await _stored_key_ids(database) == {new_id}

    server.env["HOOKD_MAIN_KEY"] = new  # the old key dropped
    server.start()
    try:
        assert await _secret_of(server, app, endpoint) == secret
    finally:
        server.stop()
    server.env["HOOKD_MAIN_KEY"] = old  # the old key alone no longer opens anything
    server.start(wait_healthy=False)
    assert server.process is not None and server.process.wait(timeout=30) == 4


async def test_plain_secrets_of_an_older_database_are_sealed_at_first_start(
    database: str, tmp_path: Path
) -> None:
    server = HookdServer(
        tmp_path / "server",
        env={"HOOKD_MAIN_KEY": sealing.new_main_key(), "HOOKD_DATABASE_URL": database},
    )
    server.start()
    try:
        app, endpoint, _ = await _endpoint_with_secret(server, "https://hooks.example/")
    finally:
        server.stop()
    # What a database written before secrets were sealed holds: plain values, no check value.
    plain = Planted()
    plain.add("plain secret", whsec())
    plain.add("plain header", token("plain-header"))
    headers = json.dumps({"X-Key": plain.texts["plain header"]})
    await _execute(
        database,
        "UPDATE endpoints SET secret = ?, headers = ?, old_secrets = '[]'",
        (plain.texts["plain secret"], headers),
    )
    await _execute(database, "DELETE FROM server_keys", ())
    if database.startswith("sqlite"):
        with sqlite3.connect(database.split(":///", 1)[1]) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert await find_secrets(database, plain) != []

    # No HOOKD_MAIN_KEY: a key is generated into the data directory (0600) and seals them.
    server.env["HOOKD_MAIN_KEY"] = ""
    server.start()
    try:
        assert await _secret_of(server, app, endpoint) == plain.texts["plain secret"]
    finally:
        server.stop()
    # SQLite: the file, its WAL and -shm (the old pages were rewritten); PostgreSQL: the rows.
    assert await find_secrets(database, plain) == []
    data_dir = server.data_dir if database.startswith("sqlite") else server.data_dir / ".hookd"
    key_file = data_dir / "main_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().strip().encode() not in server.log_path.read_bytes()


async def _execute(database: str, sql: str, params: tuple[str, ...]) -> None:
    """One statement with ``?`` parameters on either database, outside hookd."""
    if database.startswith("sqlite"):
        with sqlite3.connect(database.split(":///", 1)[1]) as conn:
            conn.execute(sql, params)
        return
    for i in range(len(params)):
        sql = sql.replace("?", f"${i + 1}", 1)
    pg = await asyncpg.connect(database)
    try:
        await pg.execute(sql, *params)
    finally:
        await pg.close()
