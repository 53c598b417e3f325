"""Stand-in application code shared by the backend and the worker images (test/engine.test.ts).

Both read their Redis settings exactly as the planned containers give them: REDIS_URL without a
password, REDIS_PASSWORD_FILE and REDIS_CA_FILE. Celery talks to Redis over TLS, verifying the
server against the CA, as the service's ACL user.
"""
import os
import ssl
from urllib.parse import quote, urlsplit

from celery import Celery


def redis_settings():
    url = urlsplit(os.environ["REDIS_URL"])
    with open(os.environ["REDIS_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    return url, password


def celery_url():
    url, password = redis_settings()
    return f"rediss://{quote(url.username)}:{quote(password, safe='')}@{url.hostname}:{url.port}{url.path}"


TLS = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": os.environ.get("REDIS_CA_FILE", "")}

app = Celery("standin", broker=celery_url(), backend=celery_url())
app.conf.broker_use_ssl = TLS
app.conf.redis_backend_use_ssl = TLS
app.conf.worker_enable_remote_control = False
app.conf.broker_connection_retry_on_startup = True
app.conf.task_default_queue = "standin"


@app.task(name="standin.add")
def add(x, y):
    return {"sum": x + y, "worker": os.uname().nodename}


def ping():
    """PING over TLS as the service's ACL user; raises on any failure."""
    import redis

    url, password = redis_settings()
    client = redis.Redis(host=url.hostname, port=url.port, username=url.username, password=password, ssl=True,
                         ssl_ca_certs=os.environ["REDIS_CA_FILE"], ssl_cert_reqs="required", socket_timeout=5)
    return client.ping()
