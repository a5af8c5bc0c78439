# syntax=docker/dockerfile:1
# Build: docker build -t sentry-access .
# Run:   docker run -p 8080:8080 -v sentry-access-data:/data \
#          -e SENTRY_URL -e SENTRY_ORG -e SENTRY_AUTH_TOKEN_FILE=/run/secrets/sentry_token \
#          -e SENTRY_ACCESS_BASE_URL=https://access.example.com -e SENTRY_ACCESS_SESSION_KEY_FILE=/run/secrets/session_key \
#          -e SAML_IDP_METADATA_URL=https://idp.example.com/metadata \
#          -e SAML_SP_KEY_FILE=/run/secrets/sp.key -e SAML_SP_CERT_FILE=/run/secrets/sp.crt \
#          sentry-access serve
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sentry-access ./cmd/sentry-access \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sentry-access /sentry-access
# /data must belong to nonroot (uid 65532) so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SENTRY_ACCESS_DATA=/data SENTRY_ACCESS_LISTEN=:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/sentry-access"]
CMD ["serve"]
