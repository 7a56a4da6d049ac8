# syntax=docker/dockerfile:1
# lockstep container image: the one CLI plus the bundled scenarios and sweeps.
#
#   docker build -t ghcr.io/lockstep-sim/lockstep:latest .
#   docker run --rm ghcr.io/lockstep-sim/lockstep:latest run /opt/lockstep/scenarios/quickstart.yaml --out /tmp/out
#
# h3-go needs cgo, so the builder has gcc; the binary is linked fully static
# (glibc, with the netgo/osusergo tags so no NSS lookups are needed at run time)
# and runs on distroless/static as a non-root user. Verified to link statically
# with `go build` on Debian bookworm; the image itself was not built in CI here
# (no Docker engine on the development machine).

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
 && /out/lockstep validate scenarios/*.yaml

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
