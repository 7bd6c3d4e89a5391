"""A proxyless grpcio client for the Dubbo peer's tri Greeter; a subprocess per bootstrap.

Usage: python -m tests.conformance.greeter_client TARGET GROUP VERSION DEADLINE_SECONDS
with GRPC_XDS_BOOTSTRAP_CONFIG set (for ``xds:///`` targets). It calls
``/dubbomesh.peer.Greeter/Greet`` (the IDL name Dubbo registered as the URL path) with the Triple
group/version headers until one call succeeds or the deadline passes, then prints one JSON line:
``{"ok": true, "message": ..., "served_by": ...}`` or ``{"ok": false, "error": ...}``.
The message classes are built from a descriptor mirroring the peer's greeter.proto, so the call is
typed protobuf on the wire exactly as a generated stub would send.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

METHOD = "/dubbomesh.peer.Greeter/Greet"


def message_classes() -> tuple[Any, Any]:
    proto = descriptor_pb2.FileDescriptorProto(name="dm_greeter.proto", package="dubbomesh.peer")
    string = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    request = proto.message_type.add(name="GreetRequest")
    request.field.add(name="name", number=1, type=string, label=optional)
    reply = proto.message_type.add(name="GreetReply")
    reply.field.add(name="message", number=1, type=string, label=optional)
    reply.field.add(name="served_by", number=2, type=string, label=optional)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    classes = message_factory.GetMessages([proto], pool=pool)
    return classes["dubbomesh.peer.GreetRequest"], classes["dubbomesh.peer.GreetReply"]


def main() -> None:
    target, group, version, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    request_cls, reply_cls = message_classes()
    channel = grpc.insecure_channel(target)
    call = channel.unary_unary(
        METHOD,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=reply_cls.FromString,
    )
    metadata = (("tri-service-group", group), ("tri-service-version", version))
    deadline = time.monotonic() + float(deadline_s)
    last = ""
    while time.monotonic() < deadline:
        try:
            reply = call(request_cls(name="conformance"), timeout=10, metadata=metadata)
        except grpc.RpcError as exc:
            last = f"{exc.code()} {exc.details()}"
            time.sleep(0.2)  # pacing between attempts of a bounded retry loop
            continue
        print(json.dumps({"ok": True, "message": reply.message, "served_by": reply.served_by}))
        return
    print(json.dumps({"ok": False, "error": last}))


if __name__ == "__main__":
    main()
