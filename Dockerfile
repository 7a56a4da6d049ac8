# syntax=docker/dockerfile:1
# lockstep container image: the one CLI plus the bundled scenarios and sweeps.
#
#   docker build -t ghcr.io/lockstep-sim/lockstep:latest .
#   docker run --rm ghcr.io/lockstep-sim/lockstep:latest run /opt/lockstep/scenarios/quickstart.yaml --out /tmp/out
#
# h3-go needs cgo, so the builder has gcc; the binary is linked fully static
# (glibc, with the netgo/osusergo tags so no NSS lookups are needed at run time)
# and runs on distroless/static as a non-root user.
#
# What has been checked (see deploy/k8s/README.md): the build step below, run
# by hand on Debian 12 (bookworm, gcc 12, Go 1.26.8), gives a statically linked
# binary (`file`, `ldd`) that runs the build-stage checks and the sweep-job.yaml
# shards as uid 65532 in a chroot holding only the binary and /opt/lockstep.
# The image itself has never been built: the development machine has a docker
# client but no daemon and no registry access. cmd/lockstep/dockerfile_test.go
# parses this file and checks it against deploy/k8s (stages, USER, static link
# flags, COPY targets, ENTRYPOINT).

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# gcc and libc6-dev (static libc.a) are in the golang image already
ENV CGO_ENABLED=1 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=devel
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -tags netgo,osusergo \
      -ldflags "-s -w -X main.version=${VERSION} -linkmode external -extldflags -static" \
      -o /out/lockstep ./cmd/lockstep \
 && /out/lockstep version \
 && /out/lockstep validate scenarios/*.yaml \
 && /out/lockstep sweep scenarios/quickstart.yaml --vary couriers.fleet=2,3 --replications 1 \
      --shard 0/1 --out /tmp/smoke --quiet \
 && rm -rf /tmp/smoke

# If static linking ever fails (a new cgo dependency), switch the runtime to
#   FROM debian:bookworm-slim
#   RUN useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin lockstep
# and drop "-linkmode external -extldflags -static" above.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lockstep /usr/local/bin/lockstep
COPY scenarios/ /opt/lockstep/scenarios/
COPY sweeps/ /opt/lockstep/sweeps/
WORKDIR /opt/lockstep
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/lockstep"]
CMD ["--help"]
