"""Generated protobuf modules (istio_mcp_pb2, istio_networking_pb2); built from ../proto by setup.py."""
