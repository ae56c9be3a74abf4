# moto_server with DynamoDB requests serialised.
#
# moto's DynamoDB checks a condition and then writes without a lock, and
# moto_server handles requests on threads; when a thread is switched out
# between the two (likely on a loaded machine), two conditional writes on
# one key both succeed, which DynamoDB never allows. Serialising the
# DynamoDB and Streams requests restores DynamoDB's atomicity; the other
# services (SQS long polls among them) stay concurrent.
#
# Usage: python3 serve.py HOST PORT (the same server moto_server starts).
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialised(environ, start_response):
    if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        return app(environ, start_response)
    with lock:
        # The whole answer is produced inside the lock.
        return [b"".join(app(environ, start_response))]


run_simple(host, port, serialised, threaded=True)
