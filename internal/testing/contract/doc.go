// Package contract holds the contract tests between the Sentry client
// (internal/sentry), the Sentry simulator (internal/sentrysim) and Sentry's
// public OpenAPI schema. It has no non-test code: see contract_test.go for
// the OpenAPI-validating transport, shapes_test.go for the endpoints the
// schema lacks, and pitfalls_test.go for the traps of docs/sentry-access-model.md#pitfalls.
//
// The schema subset under testdata/openapi is regenerated from the full
// schema in ../shared/sentry-openapi with go generate.
package contract

//go:generate go run ./testdata/openapi/subset.go -in ../../../shared/sentry-openapi/openapi-derefed.json -out testdata/openapi/sentry-subset.json
