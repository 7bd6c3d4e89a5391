"""A proxyless grpcio client, run as a subprocess so GRPC_XDS_BOOTSTRAP_CONFIG applies cleanly.

Usage: python -m tests.xds.grpc_xds_client xds:///<host>:<port>
Calls /test.Echo/Whoami every 50 ms forever and prints one line per call: ``ok <reply>`` or
``err <status>``. The parent test reads the lines and kills the process.
"""

from __future__ import annotations

import sys
import time

import grpc


def main() -> None:
    target = sys.argv[1]
    channel = grpc.insecure_channel(target)
    call = channel.unary_unary("/test.Echo/Whoami")
    while True:
        try:
            reply = call(b"hi", timeout=5)
            print(f"ok {reply.decode()}", flush=True)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else "?"
            details = exc.details() if hasattr(exc, "details") else str(exc)
            print(f"err {code} {details}", flush=True)
        time.sleep(0.05)  # pacing of the load loop, not a wait for a condition


if __name__ == "__main__":
    main()
