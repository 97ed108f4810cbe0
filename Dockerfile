# syntax=docker/dockerfile:1
# One image per service, from one Dockerfile; the SERVICE build arg picks the service and its pyproject extra:
#   docker build --build-arg SERVICE=embedding -t audiosearch-embedding:0.1.0 .
#   (SERVICE: embedding | search | metadata | gateway | console; docker compose build does all five)
# PaddleSpeech weights are not baked in: mount a volume at /models, or bake them with
#   --build-arg SERVICE=embedding --build-arg BAKE_MODELS=ecapa_tdnn,panns_cnn14   (needs network at build time)
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# ---- build: a virtual environment with the package and only this service's dependencies
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE=gateway
ARG BAKE_MODELS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN case "$SERVICE" in embedding|search|metadata|gateway|console) ;; \
      *) echo "SERVICE must be embedding, search, metadata, gateway or console (got '$SERVICE')" >&2; exit 1 ;; esac
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY audiosearch ./audiosearch
COPY embedding_service ./embedding_service
COPY search_service ./search_service
COPY metadata_service ./metadata_service
COPY gateway ./gateway
COPY console ./console
RUN /opt/venv/bin/pip install ".[${SERVICE}]" \
 && if [ "$SERVICE" = embedding ]; then /opt/venv/bin/pip install --no-deps paddlespeech==1.5.0 resemblyzer==0.1.4; fi
RUN mkdir -p /models && if [ -n "$BAKE_MODELS" ]; then \
      [ "$SERVICE" = embedding ] || { echo "BAKE_MODELS is for SERVICE=embedding" >&2; exit 1; }; \
      for model in $(echo "$BAKE_MODELS" | tr ',' ' '); do \
        /opt/venv/bin/audiosearch models fetch "$model" --model-dir /models; \
      done; fi

# ---- runtime: the virtual environment on a slim base, run as an unprivileged user
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE=gateway
LABEL org.opencontainers.image.title="audiosearch-${SERVICE}" \
      org.opencontainers.image.description="audiosearch ${SERVICE} service (gRPC)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 audiosearch \
 && useradd --system --uid 10001 --gid audiosearch --home-dir /home/audiosearch --create-home audiosearch \
 && mkdir -p /data /models && chown audiosearch:audiosearch /data /models
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=audiosearch:audiosearch /models /models
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AUDIOSEARCH_SERVICE=${SERVICE} \
    AUDIOSEARCH_EMBEDDING_MODEL_DIR=/models
USER 10001:10001
WORKDIR /data
# Listen on every interface inside the container; the ports are the defaults of `audiosearch up`.
ENV AUDIOSEARCH_GATEWAY_LISTEN=[::]:50051 \
    AUDIOSEARCH_EMBEDDING_LISTEN=[::]:50052 \
    AUDIOSEARCH_SEARCH_LISTEN=[::]:50053 \
    AUDIOSEARCH_METADATA_LISTEN=[::]:50054
EXPOSE 50051 50052 50053 50054 9090
# gRPC health (grpc.health.v1) of this container's own service; the console's is HTTP (GET /healthz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "if [ \"$AUDIOSEARCH_SERVICE\" = console ]; then exec python -m console.healthcheck; else exec python -m audiosearch.tools.healthcheck; fi"]
# exec: the service is PID 1 and gets SIGTERM for its graceful shutdown.
CMD ["sh", "-c", "exec audiosearch-$AUDIOSEARCH_SERVICE"]
