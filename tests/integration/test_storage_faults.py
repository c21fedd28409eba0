"""SQLite storage faults on a running `hookd serve`: a write lock another process holds, a full
disk, an unexpected error. Each is answered (503 with Retry-After, or 500), nothing answered 2xx
is lost, the keep-alive connection stays usable, and hookd recovers without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h11
import orjson
import pytest

from tests.integration.inbound.signers import github_headers
from tests.support import TOKEN, HookdServer, NewServer, eventually

GITHUB_SECRET = "faults-secret"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = orjson.loads(self.body)
        assert isinstance(value, dict)
        return value


class KeepAliveClient:
    """HTTP/1.1 requests one after another on ONE connection (h11), never reconnecting: a
    connection the server closed after an answer fails the next request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = h11.Connection(h11.CLIENT)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> KeepAliveClient:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.writer is not None
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        assert self.reader is not None and self.writer is not None
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        sent = {
            "host": f"127.0.0.1:{self.port}",
            "authorization": f"Bearer {TOKEN}",
            "content-type": "application/json",
            "content-length": str(len(body)),
            **(headers or {}),
        }
        out = self.conn.send(h11.Request(method=method, target=path, headers=list(sent.items())))
        out += self.conn.send(h11.Data(data=body)) or b""
        out += self.conn.send(h11.EndOfMessage()) or b""
        self.writer.write(out)
        await self.writer.drain()
        response: h11.Response | None = None
        chunks: list[bytes] = []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(65536), 30)
                self.conn.receive_data(data)  # b"": the server closed the connection
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection")
        assert response is not None
        names = {k.decode().lower(): v.decode() for k, v in response.headers}
        return Answer(response.status_code, names, b"".join(chunks))


async def _setup(client: KeepAliveClient) -> tuple[str, str]:
    """An application and a GitHub source: (app id, the source's ingest path)."""
    app = await client.request("POST", "/api/v1/app", orjson.dumps({"name": "faults"}))
    assert app.status == 201, app.body
    source = await client.request(
        "POST",
        "/ingest/api/v1/source",
        orjson.dumps({"name": "gh", "type": "github", "config": {"secret": GITHUB_SECRET}}),
    )
    assert source.status == 201, source.body
    ingest_url = str(source.json()["ingestUrl"])
    return str(app.json()["id"]), "/in/" + ingest_url.rsplit("/in/", 1)[1]


def _create(app_id: str, payload: object) -> tuple[str, str, bytes]:
    body = orjson.dumps({"eventType": "order.paid", "payload": payload})
    return "POST", f"/api/v1/app/{app_id}/msg", body


def _ingest(path: str, body: bytes) -> tuple[str, str, bytes, dict[str, str]]:
    return "POST", path, body, github_headers(body, GITHUB_SECRET, "issues")


def _assert_503(answer: Answer, code: str) -> None:
    assert answer.status == 503, answer.body
    assert answer.json()["code"] == code and answer.json()["detail"]
    assert int(answer.headers["retry-after"]) > 0


async def test_a_write_lock_held_elsewhere_is_a_prompt_503_and_the_connection_stays_open(
    new_server: NewServer,
) -> None:
    server: HookdServer = new_server({"HOOKD_SQLITE_BUSY_TIMEOUT": "0.5"})
    server.start()
    async with KeepAliveClient(server.port) as client:
        app_id, ingest_path = await _setup(client)
        holder = sqlite3.connect(server.data_dir / "hookd.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another program holds SQLite's write lock
        try:
            body = orjson.dumps({"action": "opened"})
            for method, path, payload, *headers in (
                _create(app_id, {"n": 1}),
                _ingest(ingest_path, body),
                ("POST", "/api/v1/app", orjson.dumps({"name": "second"})),
                _create(app_id, {"n": 2}),
            ):
                answer = await client.request(method, path, payload, *headers)
                _assert_503(answer, "database_unavailable")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # The same connection, once the lock is free: the writes go through.
        method, path, payload = _create(app_id, {"n": 3})
        assert (await client.request(method, path, payload)).status == 201
        method, path, payload, signed = _ingest(ingest_path, orjson.dumps({"action": "closed"}))
        assert (await client.request(method, path, payload, signed)).status == 200


async def test_an_unexpected_error_is_a_500_and_the_connection_stays_open(
    new_server: NewServer,
) -> None:
    server: HookdServer = new_server()
    server.start()
    async with KeepAliveClient(server.port) as client:
        assert (await client.request("GET", "/api/v1/event-type")).status == 200
        with sqlite3.connect(server.data_dir / "hookd.db", isolation_level=None) as other:
            other.execute("DROP TABLE event_types")  # the route's query now fails in SQLite
        broken = await client.request("GET", "/api/v1/event-type")
        assert broken.status == 500, broken.body
        assert broken.json()["code"] == "internal_error"
        again = await client.request("GET", "/api/v1/app")  # the same connection
        assert again.status == 200, again.body
    assert "unhandled error" in server.log_path.read_text()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MiB filesystem (tmpfs), mounted for the test: it can be filled up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> Path:
    """Fill the filesystem of ``directory`` up to its last byte; the filler file."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            while True:
                try:
                    handle.write(chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return filler


async def test_a_full_disk_is_a_503_loses_nothing_and_recovers(
    new_server: NewServer,
    small_disk: Path,
) -> None:
    server: HookdServer = new_server(
        {"HOOKD_DATABASE_URL": f"sqlite:///{small_disk / 'data' / 'hookd.db'}"}
    )
    server.start()
    big = "x" * 200_000  # each write needs fresh pages
    accepted: list[str] = []
    async with KeepAliveClient(server.port) as client:
        app_id, ingest_path = await _setup(client)
        filler = _fill(small_disk)

        async def until_refused(request: tuple[object, ...]) -> Answer:
            for _ in range(200):
                answer = await client.request(*request)  # type: ignore[arg-type]
                if answer.status != 503:
                    assert answer.status in (200, 201), answer.body
                    accepted.append(str(answer.json().get("id", "")))
                    continue
                return answer
            raise AssertionError("the full disk never refused a write")

        _assert_503(await until_refused(_create(app_id, {"big": big})), "storage_unavailable")
        inbound = orjson.dumps({"action": "opened", "big": big, "n": uuid.uuid4().hex})
        _assert_503(await until_refused(_ingest(ingest_path, inbound)), "storage_unavailable")
        assert (await client.request("GET", f"/api/v1/app/{app_id}")).status == 200

        filler.unlink()  # space is back: hookd writes again, without a restart

        async def written() -> Answer | None:
            method, path, payload = _create(app_id, {"after": 1})
            answer = await client.request(method, path, payload)
            return answer if answer.status == 201 else None

        created = await eventually(written, timeout=30, interval=0.5)
        accepted.append(str(created.json()["id"]))
        for message_id in filter(None, accepted):  # every 2xx is still there (creates)
            found = await client.request("GET", f"/api/v1/app/{app_id}/msg/{message_id}")
            assert found.status == 200, (message_id, found.body)
    log = server.log_path.read_text()
    assert "storage full" in log


def test_the_data_directory_and_database_files_are_private(new_server: NewServer) -> None:
    server: HookdServer = new_server()
    data = server.data_dir / "data"  # made by hookd (the server's own directory is the test's)
    # No HOOKD_ADMIN_TOKEN: hookd generates one and stores it in the data directory.
    server.env = {"HOOKD_DATABASE_URL": f"sqlite:///{data / 'hookd.db'}", "HOOKD_ADMIN_TOKEN": ""}
    server.start()
    token = (data / "admin_token").read_text().strip()
    with sqlite3.connect(data / "hookd.db") as other:  # the -wal and -shm files exist now
        other.execute("SELECT count(*) FROM applications").fetchall()
    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in (data, *(data / name for name in ("hookd.db", "hookd.db-wal", "hookd.db-shm")))
    }
    modes["admin_token"] = stat.S_IMODE((data / "admin_token").stat().st_mode)
    assert modes == {
        "data": 0o700,
        "hookd.db": 0o600,
        "hookd.db-wal": 0o600,
        "hookd.db-shm": 0o600,
        "admin_token": 0o600,
    }
    assert token.startswith("hk_")
    assert "open to other users" not in server.log_path.read_text()

    server.stop()
    data.chmod(0o755)
    (data / "hookd.db").chmod(0o644)
    server.start()
    warnings = [line for line in server.log_lines() if "open to other" in line["event"]]
    # The directory and the file (SQLite gives its -wal and -shm the file's mode: those too).
    assert any(line.get("mode") == "0755" and line.get("expected") == "0700" for line in warnings)
    warned = {Path(line["path"]).name: line["mode"] for line in warnings}
    assert warned.get("hookd.db") == "0644", warnings
    assert "admin_token" not in warned
