# syntax=docker/dockerfile:1
# The dubbomesh agent image. Two stages: wheels are built in the first; the runtime installs them
# into a venv (binary wheels only, no index) on a slim Python base with no compilers, and runs as a
# non-root user. The steps live in scripts/build-image-rootfs.sh, which CI runs too (tests/charts/
# test_image_script.py) because CI has no Docker engine. Build: docker build -t dubbomesh .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS wheels
WORKDIR /src
COPY . .
RUN bash scripts/build-image-rootfs.sh wheels /src /wheels

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="dubbomesh" \
      org.opencontainers.image.description="Publishes Apache Dubbo services registered in ZooKeeper into an Istio mesh (MCP-over-xDS, Envoy xDS, ServiceEntry/WorkloadEntry)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/dubbomesh/dubbomesh" \
      org.opencontainers.image.documentation="https://github.com/dubbomesh/dubbomesh/blob/main/docs/operations.md" \
      org.opencontainers.image.licenses="Apache-2.0"
# Wheels and the script are bind-mounted, not copied: they never become a layer of the image.
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    --mount=type=bind,source=scripts/build-image-rootfs.sh,target=/run/build-image-rootfs.sh \
    bash /run/build-image-rootfs.sh install /wheels /opt/dubbomesh \
 && bash /run/build-image-rootfs.sh check /opt/dubbomesh
# Read-only root filesystem in the chart: no bytecode writes; HOME on the /tmp emptyDir.
ENV PATH=/opt/dubbomesh/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
# A numeric user (no passwd entry needed) so Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 15910 9090
ENTRYPOINT ["dubbomesh"]
CMD ["run", "--config", "/etc/dubbomesh/config.yaml"]
