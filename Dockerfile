# syntax=docker/dockerfile:1
# twofold container image: `docker build -t twofold .`
# The binary links libpq and SQLite statically (bundled C builds) and the system OpenSSL (for libpq's
# TLS), so the runtime image needs libssl3 and CA certificates (for HTTPS SMS gateways and rediss://).

# ---- build ---------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml or Cargo.lock change,
# which saves the ~6 minutes of C and Rust dependency builds on every source edit. The empty lib and
# main only make the manifest buildable.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# Then the real sources (templates, migrations and anything else compiled in come with them).
COPY . .
# COPY keeps the context's mtimes, which can be older than the placeholder build above: touch so
# cargo does not take the placeholder crate for an up-to-date build of the real one.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && install -m 0755 target/release/twofold /usr/local/bin/twofold

# ---- runtime -------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid, so that volume and secret file ownership can be set on the host, and
# orchestrators can verify runAsNonRoot.
RUN groupadd --system --gid 10001 twofold \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/twofold --no-create-home \
      --shell /usr/sbin/nologin twofold \
 && install -d -o twofold -g twofold -m 0750 /var/lib/twofold

COPY --from=builder /usr/local/bin/twofold /usr/local/bin/twofold

# The data dir holds the embedded SQLite database and the generated development master key: mount
# a volume there when running without PostgreSQL, or they go away with the container.
ENV TWOFOLD_LISTEN=0.0.0.0:8080 \
    TWOFOLD_DATA_DIR=/var/lib/twofold
WORKDIR /var/lib/twofold
USER 10001:10001
EXPOSE 8080

# No HEALTHCHECK: the image has no HTTP client. Probe GET /readyz (ready to serve: database and
# store reachable) or /healthz (process alive) from the orchestrator or the load balancer.
ENTRYPOINT ["/usr/local/bin/twofold"]
CMD ["serve"]
