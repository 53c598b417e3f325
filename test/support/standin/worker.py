"""Stand-in worker: a real Celery worker (Debian's python3-celery) that touches the heartbeat
file while Redis answers PING over TLS as the worker's ACL user (the contract: every 20 s at most)."""
import os
import sys
import threading
import time

sys.path.insert(0, "/opt/standin")
import tasks  # noqa: E402

HEARTBEAT = "/tmp/healthy"


def heartbeat():
    while True:
        try:
            tasks.ping()
            with open(HEARTBEAT, "a"):
                os.utime(HEARTBEAT, None)
        except Exception as e:
            print(f"heartbeat: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        time.sleep(5)


threading.Thread(target=heartbeat, daemon=True).start()
tasks.app.worker_main(["worker", "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
                       "--without-heartbeat", "--loglevel=INFO", "-Q", "standin"])
