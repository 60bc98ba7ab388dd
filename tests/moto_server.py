"""moto's server, answering one request at a time.

`python -m moto.server` serves each request on its own thread, and moto's DynamoDB backend does
not lock around TransactWriteItems: concurrent transactions on one item then interleave (or fail
with an HTML 500), which real DynamoDB never does. The contract tests race writers against each
other on purpose, so they need every request to be atomic, as it is on AWS. Serving on one thread
gives exactly that; the clients still race, through their reads and conditional writes.
"""

import sys

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
