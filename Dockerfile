# Dockerfile — the llmotlp image: built on Debian 12 with Debian's own gRPC, protobuf-c, SQLite,
# libcurl and libmicrohttpd, run on Debian 12 slim with only their runtime libraries.
#
# The one idea: the build and the runtime stage use the same Debian release, so the binary links
# against exactly the shared libraries the runtime packages install (deploy/check.sh maps every
# library `ldd` lists to one of those packages), and the pricing DB is seeded at build time by the
# binary just built, so a container starts with prices and no first-run step.
#
#   docker build -t llmotlp:0.1.0 .
#   docker run --rm -p 4317:4317 -p 4318:4318 llmotlp:0.1.0
#   docker run --rm -e LLMOTLP_EXPORTERS='[otlp]' -e OTLP_ENDPOINT=collector:4317 llmotlp:0.1.0

# ---- build ------------------------------------------------------------------------------------
FROM debian:12-slim AS build

# The build packages of scripts/install-deps.sh, without the test-only ones (libcmocka-dev,
# prometheus, curl, nodejs, npm): CMake finds cmocka optionally and only llmotlp is built here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libgrpc-dev libprotobuf-c-dev protobuf-c-compiler \
      libre2-dev libyaml-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev \
      zlib1g-dev libssl-dev libjson-c-dev libgnutls28-dev libxxhash-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what the llmotlp target is built from, so editing docs, tests or deploy/ keeps the cache.
COPY CMakeLists.txt ./
COPY proto/ proto/
COPY pricing/ pricing/
COPY core/ core/
COPY receivers/ receivers/
COPY processors/ processors/
COPY exporters/ exporters/
COPY connectors/ connectors/
COPY extensions/ extensions/
COPY cmd/ cmd/
COPY config.yaml ./

RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLLMOTLP_SANITIZE=OFF \
 && cmake --build build --target llmotlp -j"$(nproc)"

# The default config must load with the built binary, and the DB is seeded from the list prices
# (`make run` does the same on first start).
RUN ./build/llmotlp validate --config config.yaml \
 && mkdir -p /out \
 && ./build/llmotlp pricing --db /out/llmotlp.db init --seed pricing/prices.csv

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:12-slim

# The packages of the shared libraries llmotlp links (libgrpc29 also brings libgpr, upb, re2,
# c-ares and abseil; libcurl4 brings OpenSSL and nghttp2). ca-certificates: https:// endpoints of
# the otlphttp exporter use the system roots.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcrypt1 libcurl4 libgrpc29 libjson-c5 libmicrohttpd12 libprotobuf-c1 libre2-9 \
      libsqlite3-0 libxxhash0 libyaml-0-2 zlib1g \
 && rm -rf /var/lib/apt/lists/*

# A numeric user, so Kubernetes can verify runAsNonRoot.
RUN groupadd --system --gid 10001 llmotlp \
 && useradd --system --uid 10001 --gid llmotlp --home-dir /var/lib/llmotlp \
      --no-create-home --shell /usr/sbin/nologin llmotlp \
 && mkdir -p /etc/llmotlp /usr/share/llmotlp /var/lib/llmotlp \
 && chown llmotlp:llmotlp /var/lib/llmotlp

COPY --from=build /src/build/llmotlp /usr/local/bin/llmotlp
COPY config.yaml /etc/llmotlp/config.yaml
# The seed stays in the image: a fresh volume (Kubernetes emptyDir) is seeded from it.
COPY pricing/prices.csv /usr/share/llmotlp/prices.csv
# SQLite in WAL mode writes beside the DB, so the whole directory belongs to the user; an empty
# named Docker volume mounted here starts as a copy of it, DB included (no VOLUME line: it would
# leave an anonymous volume behind every `docker run`).
COPY --from=build --chown=10001:10001 /out/llmotlp.db /var/lib/llmotlp/llmotlp.db

ENV LLMOTLP_PRICING_DB=/var/lib/llmotlp/llmotlp.db
# config.yaml listens on loopback by default, as the Collector does; in a container the published
# ports reach the container's interface, not its loopback, so the image says every interface here.
ENV OTLP_GRPC_ENDPOINT=0.0.0.0:4317 \
    OTLP_HTTP_ENDPOINT=0.0.0.0:4318 \
    LLMOTLP_METRICS_ADDRESS=0.0.0.0:8888 \
    LLMOTLP_PROMETHEUS_ENDPOINT=0.0.0.0:8889 \
    LLMOTLP_HEALTH_ENDPOINT=0.0.0.0:13133
USER 10001:10001
WORKDIR /var/lib/llmotlp

# 4317 OTLP/gRPC, 4318 OTLP/HTTP, 8888 own metrics, 8889 LLM metrics (prometheus exporter),
# 13133 health_check.
EXPOSE 4317 4318 8888 8889 13133
# Liveness and readiness belong to the orchestrator (health_check on :13133); the image has no
# HTTP client to probe itself with.
HEALTHCHECK NONE

ENTRYPOINT ["llmotlp"]
CMD ["--config", "/etc/llmotlp/config.yaml"]
