"""Runs inside a backend or worker container (test/rotationEngine.test.ts): every 100 ms, a new
PostgreSQL login and a new Redis login with exactly what the container was given (DATABASE_URL
and its pgpass file; REDIS_URL, REDIS_PASSWORD_FILE, REDIS_CA_FILE), counting the failures in
/tmp/logins.json until /tmp/stop-logins exists. The stand-in images hold no PostgreSQL driver:
the login is PostgreSQL's protocol with SCRAM-SHA-256 (RFC 5802/7677) on the standard library.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
from urllib.parse import unquote, urlsplit

import redis


def pgpass_password(host, port, database, user):
    with open(os.environ["PGPASSFILE"]) as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            if len(fields) >= 5 and all(f in ("*", v) for f, v in zip(fields[:4], (host, str(port), database, user))):
                return ":".join(fields[4:])
    raise RuntimeError(f"no pgpass line for {user}@{host}:{port}/{database}")


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
    return data


def read_message(sock):
    kind = recv_exact(sock, 1)
    (length,) = struct.unpack("!I", recv_exact(sock, 4))
    return kind, recv_exact(sock, length - 4)


def send(sock, kind, body):
    sock.sendall(kind + struct.pack("!I", len(body) + 4) + body)


def error_text(body):
    fields = {part[:1]: part[1:].decode(errors="replace") for part in body.split(b"\0") if part}
    return f"{fields.get(b'S', '')}: {fields.get(b'M', '')}"


def postgres_login():
    url = urlsplit(os.environ["DATABASE_URL"])
    host, port, database, user = url.hostname, url.port or 5432, url.path.lstrip("/"), unquote(url.username)
    password = pgpass_password(host, port, database, user).encode()
    sock = socket.create_connection((host, port), timeout=5)
    try:
        startup = struct.pack("!I", 196608) + b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
        sock.sendall(struct.pack("!I", len(startup) + 4) + startup)
        client_first = "n=,r=" + base64.b64encode(os.urandom(18)).decode()
        while True:
            kind, body = read_message(sock)
            if kind == b"E":
                raise RuntimeError(error_text(body))
            if kind == b"Z":
                return
            if kind != b"R":
                continue
            (code,) = struct.unpack("!I", body[:4])
            if code == 10:  # SASL: SCRAM-SHA-256, no channel binding
                first = ("n,," + client_first).encode()
                send(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
            elif code == 11:
                server_first = body[4:].decode()
                attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
                salted = hashlib.pbkdf2_hmac("sha256", password, base64.b64decode(attrs["s"]), int(attrs["i"]))
                client_key = hmac.new(salted, b"Client Key", "sha256").digest()
                final_without_proof = "c=biws,r=" + attrs["r"]
                message = f"{client_first},{server_first},{final_without_proof}".encode()
                signature = hmac.new(hashlib.sha256(client_key).digest(), message, "sha256").digest()
                proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
                send(sock, b"p", f"{final_without_proof},p={proof}".encode())
            elif code == 3:
                send(sock, b"p", password + b"\0")
            elif code not in (0, 12):
                raise RuntimeError(f"authentication request {code} not handled")
    finally:
        sock.close()


def redis_login():
    url = urlsplit(os.environ["REDIS_URL"])
    with open(os.environ["REDIS_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    client = redis.Redis(
        host=url.hostname,
        port=url.port,
        username=unquote(url.username),
        password=password,
        ssl=True,
        ssl_ca_certs=os.environ["REDIS_CA_FILE"],
        ssl_cert_reqs="required",
        socket_timeout=5,
        socket_connect_timeout=5,
    )
    try:
        client.ping()
    finally:
        client.close()


counts = {"attempts": 0, "failed": {"postgres": 0, "redis": 0}, "last": ""}
while not os.path.exists("/tmp/stop-logins"):
    started = time.monotonic()
    for name, login in (("postgres", postgres_login), ("redis", redis_login)):
        try:
            login()
        except Exception as err:  # every failure counts; its message names the user, never a password
            counts["failed"][name] += 1
            counts["last"] = f"{name}: {err}"
    counts["attempts"] += 1
    with open("/tmp/logins.next", "w") as f:
        json.dump(counts, f)
    os.replace("/tmp/logins.next", "/tmp/logins.json")
    time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
