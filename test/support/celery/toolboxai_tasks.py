"""A Celery app configured the way ToolboxAI's services are: from the environment the program
gives each container (REDIS_URL without a password, REDIS_PASSWORD_FILE, REDIS_CA_FILE), with
Redis as broker and result backend over TLS. Used by test/celery.test.ts as worker and producer."""
import os
import ssl
import sys
from urllib.parse import quote, urlsplit, urlunsplit

from celery import Celery


def redis_url() -> str:
    """REDIS_URL with the password from REDIS_PASSWORD_FILE: never on a command line."""
    url = urlsplit(os.environ["REDIS_URL"])
    with open(os.environ["REDIS_PASSWORD_FILE"], encoding="utf-8") as f:
        password = f.read().strip()
    netloc = f"{quote(url.username or '', safe='')}:{quote(password, safe='')}@{url.hostname}:{url.port}"
    return urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


TLS = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": os.environ["REDIS_CA_FILE"]}

app = Celery("toolboxai_tasks", broker=redis_url(), backend=redis_url())
app.conf.update(
    broker_use_ssl=TLS,
    redis_backend_use_ssl=TLS,
    broker_connection_retry_on_startup=False,
    broker_connection_max_retries=0,
    task_acks_late=True,
    worker_hijack_root_logger=False,
)


@app.task(name="toolboxai.add")
def add(x: int, y: int) -> int:
    return x + y


def ping() -> None:
    """Remote control, as an operator or the backend would use it: every worker answers on the mailbox."""
    replies = app.control.inspect(timeout=float(os.environ.get("CELERY_RESULT_TIMEOUT", "5"))).ping() or {}
    print(" ".join(sorted(f"{name}:{reply.get('ok')}" for name, reply in replies.items())) or "no replies")


if __name__ == "__main__":
    if sys.argv[1] == "ping":
        ping()
        sys.exit(0)
    # Producer: `python3 toolboxai_tasks.py add 2 3` sends the task, waits for its result, prints it.
    result = add.delay(int(sys.argv[2]), int(sys.argv[3]))
    value = result.get(timeout=float(os.environ.get("CELERY_RESULT_TIMEOUT", "20")))
    # Dropped while the interpreter still runs: its finaliser unsubscribes from the result channel.
    del result
    print(value)
