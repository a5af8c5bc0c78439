// Package gosentry holds the simulator's third-party-client suite: it
// drives the simulator the way github.com/jianyuan/go-sentry/v2 (the
// client under the Terraform provider) does and holds the answers to
// go-sentry's own expectations — the JSON type of every field its response
// types declare, the request bodies it sends, an empty body on 202/204,
// and pagination through the cursor of the Link header's rel="next" when
// results="true".
//
// The module itself cannot be fetched on this project's machines (the Go
// module proxy answers 403 for github.com/jianyuan/go-sentry/v2), so the
// suite states go-sentry's expectations as tables, read from go-sentry's
// source (sentry/organizations.go, organization_members.go, teams.go,
// team_members.go, projects.go, roles.go, users.go, sentry.go), instead of
// importing it. The package has only tests.
package gosentry
