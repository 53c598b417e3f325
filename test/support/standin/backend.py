"""Stand-in backend: answers /health (200 only while Redis answers PING over TLS as the backend's
ACL user) and /enqueue, which sends a Celery task to the worker and waits for its result."""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, "/opt/standin")
import tasks  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        try:
            if url.path == "/health":
                tasks.ping()
                return self.reply(200, {"status": "ok"})
            if url.path == "/enqueue":
                q = parse_qs(url.query)
                result = tasks.add.delay(int(q["x"][0]), int(q["y"][0])).get(timeout=30)
                return self.reply(200, result)
            return self.reply(404, {"error": "not found"})
        except Exception as e:  # the test reads the reason
            return self.reply(503, {"error": f"{type(e).__name__}: {e}"})

    def log_message(self, *args):
        pass


# What the real backend must do too, within its stop grace period (docs/docker-runtime.md): on
# SIGTERM keep answering while Swarm takes the task out of DNS and clients move on, then stop
# accepting and finish the requests in flight before exiting.
DRAIN_SECONDS = float(os.environ.get("STANDIN_DRAIN_SECONDS", "3"))
server = ThreadingHTTPServer(("0.0.0.0", 8000), Handler)
server.daemon_threads = False  # server_close() then waits for the requests in flight
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=lambda: (time.sleep(DRAIN_SECONDS), server.shutdown())).start())
server.serve_forever()
server.server_close()
