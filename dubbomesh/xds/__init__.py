"""The xDS adapter: resources, snapshots, the sans-IO stream machine and the grpc.aio server."""
