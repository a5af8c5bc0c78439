package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// subsetPath is the schema subset made by testdata/openapi/subset.go.
const subsetPath = "testdata/openapi/sentry-subset.json"

// schemaHost is the host the schema's servers resolve to (region "us").
// Requests are matched by path: the transport routes a copy of each
// request rewritten to this host, so the schema itself is used unchanged.
const schemaHost = "us.sentry.io"

// spec is the loaded schema subset and its router.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpecOnce loads the subset once per test binary: the one package
// variable, an immutable value shared by every (parallel) test.
var loadSpecOnce = sync.OnceValues(func() (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(subsetPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", subsetPath, err)
	}
	if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(compilePattern)); err != nil {
		return nil, fmt.Errorf("validate %s: %w", subsetPath, err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &spec{doc: doc, router: r}, nil
})

func loadSpec(t testing.TB) *spec {
	t.Helper()
	s, err := loadSpecOnce()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

// operations returns every "METHOD path" of the subset, sorted.
func (s *spec) operations() []string {
	var out []string
	for path, item := range s.doc.Paths.Map() {
		for m := range item.Operations() {
			out = append(out, m+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// undocumented are the endpoints the client calls that Sentry's schema
// does not describe (docs/sentry-access-model.md#the-openapi-schema, "Missing"). The transport lets them
// through unvalidated; shapes_test.go checks them against fixtures instead.
// Any other path missing from the schema fails the test.
func undocumented() []*regexp.Regexp {
	org := `^/api/0/organizations/[^/]+`
	return []*regexp.Regexp{
		regexp.MustCompile(org + `/access-requests/$`),
		regexp.MustCompile(org + `/access-requests/[^/]+/$`),
		regexp.MustCompile(org + `/org-auth-tokens/$`),
		regexp.MustCompile(org + `/auth-provider/$`),
		regexp.MustCompile(org + `/audit-logs/$`),
		regexp.MustCompile(`^/api/0/api-tokens/$`),
	}
}

// contractTransport validates every request it carries and every response
// it gets back against the schema, failing t on any deviation that the
// allowlist (deviations()) does not name. It records which operations were
// exercised.
type contractTransport struct {
	t    testing.TB
	spec *spec
	next http.RoundTripper
	// allowed maps an allowlisted deviation key to its reason.
	allowed map[string]string

	mu          sync.Mutex
	covered     map[string]int // "METHOD path-template" → count
	unvalidated map[string]int // undocumented endpoint paths → count
	allowedSeen map[string]int // allowlisted deviation keys met
	tolerated   map[string]int // unread required properties the simulator omits
}

func newContractTransport(t testing.TB) *contractTransport {
	return &contractTransport{
		t: t, spec: loadSpec(t), next: http.DefaultTransport, allowed: deviations(),
		covered: map[string]int{}, unvalidated: map[string]int{}, allowedSeen: map[string]int{},
		tolerated: map[string]int{},
	}
}

// RoundTrip implements http.RoundTripper.
func (ct *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	ctx := req.Context()

	// Route a copy addressed to the schema's server.
	rreq := req.Clone(ctx)
	u := *req.URL
	u.Scheme, u.Host = "https", schemaHost
	rreq.URL, rreq.Host = &u, schemaHost
	rreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := ct.spec.router.FindRoute(rreq)
	if err != nil {
		ct.noteUndocumented(req)
		return ct.next.RoundTrip(req)
	}
	op := req.Method + " " + route.Path
	ct.mu.Lock()
	ct.covered[op]++
	ct.mu.Unlock()

	in := &openapi3filter.RequestValidationInput{
		Request: rreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError:                        true,
			RejectWhenRequestBodyNotSpecified: true,
			AuthenticationFunc:                bearerAuth,
			RegexCompiler:                     compilePattern,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		ct.report(op, "request", err)
	}

	resp, err := ct.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))

	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options: &openapi3filter.Options{
			MultiError:            true,
			IncludeResponseStatus: true,
			ExcludeResponseBody:   false,
			RegexCompiler:         compilePattern,
		},
	}
	rin.SetBodyBytes(data)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		ct.report(op, strconv.Itoa(resp.StatusCode), err)
	}
	return resp, nil
}

// bearerAuth checks the schema's only scheme for our operations,
// auth_token (HTTP bearer): the client must send "Authorization: Bearer".
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "auth_token" {
		return fmt.Errorf("security scheme %q is not one the client uses", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

func (ct *contractTransport) noteUndocumented(req *http.Request) {
	for _, re := range undocumented() {
		if re.MatchString(req.URL.Path) {
			ct.mu.Lock()
			ct.unvalidated[re.String()]++
			ct.mu.Unlock()
			return
		}
	}
	ct.t.Errorf("contract: %s %s is neither in the schema subset nor a known undocumented endpoint", req.Method, req.URL.Path)
}

// report turns a validation error into deviation keys and fails the test
// for every key the allowlist does not name.
func (ct *contractTransport) report(op, where string, err error) {
	for _, k := range deviationKeys(op, where, err) {
		ct.mu.Lock()
		_, ok := ct.allowed[k.key]
		switch {
		case ok:
			ct.allowedSeen[k.key]++
		case ct.unreadOmission(op, where, k):
			ok = true
			ct.tolerated[k.key]++
		}
		ct.mu.Unlock()
		if !ok {
			ct.t.Errorf("contract: %s\n\tkey %q", k.msg, k.key)
		}
	}
}

// unreadOmission reports whether k is a required property missing from a
// success response whose body the client never decodes that property of.
func (ct *contractTransport) unreadOmission(op, where string, k deviation) bool {
	if k.field != "required" || !strings.HasPrefix(where, "2") {
		return false
	}
	typ, ok := responseTypes()[op]
	if !ok {
		ct.t.Errorf("contract: responseTypes has no entry for %s", op)
		return false
	}
	return typ == nil || !readByClient(typ, k.pointer)
}

// deviation is one schema violation: a stable key for the allowlist, the
// full message, and for schema errors the failing keyword and JSON pointer.
type deviation struct {
	key, msg string
	field    string
	pointer  []string
}

// deviationKeys flattens a kin-openapi error into one deviation per
// schema error. The key is "METHOD path where pointer field", where
// is "request" or the response status, pointer the JSON pointer with array
// indexes replaced by "*", and field the failing schema keyword
// (required, type, enum, …), e.g.
// "GET /api/0/organizations/{organization_id_or_slug}/ 200 /avatar required".
func deviationKeys(op, where string, err error) []deviation {
	var out []deviation
	var walk func(error, string)
	walk = func(err error, param string) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var reqErr *openapi3filter.RequestError
		var respErr *openapi3filter.ResponseError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e, param)
			}
		case errors.As(err, &reqErr) && reqErr.Parameter != nil && param == "":
			walk(reqErr.Err, "param:"+reqErr.Parameter.Name)
		case errors.As(err, &respErr) && respErr.Err == nil:
			// e.g. "status is not supported", a wrong content type.
			out = append(out, deviation{key: fmt.Sprintf("%s %s %s", op, where, respErr.Reason), msg: fmt.Sprintf("%s %s: %v", op, where, err)})
		case errors.As(err, &se):
			ptr := se.JSONPointer()
			for i, p := range ptr {
				if _, err := strconv.Atoi(p); err == nil {
					ptr[i] = "*"
				}
			}
			loc := "/" + strings.Join(ptr, "/")
			if param != "" {
				loc = param + loc
			}
			out = append(out, deviation{key: fmt.Sprintf("%s %s %s %s", op, where, loc, se.SchemaField),
				msg: fmt.Sprintf("%s %s: at %s: %s", op, where, loc, se.Reason), field: se.SchemaField, pointer: ptr})
		default:
			k := fmt.Sprintf("%s %s %s", op, where, param)
			out = append(out, deviation{key: strings.TrimSpace(k) + " " + err.Error(), msg: fmt.Sprintf("%s %s: %v", op, where, err)})
		}
	}
	walk(err, "")
	return out
}

// compilePattern compiles a schema "pattern" with Go's regexp, which lacks
// lookaheads. The schema's team slug pattern "^(?![0-9]+$)[a-z0-9_\\-]+$"
// (a slug that is not all digits) starts with one; a leading negative
// lookahead "^(?!X)Y" is matched as "not ^X, and ^Y". Other unsupported
// syntax is an error, so no pattern is silently skipped.
func compilePattern(expr string) (openapi3.RegexMatcher, error) {
	if rest, ok := strings.CutPrefix(expr, "^(?!"); ok {
		end := strings.Index(rest, ")")
		if end < 0 {
			return nil, fmt.Errorf("pattern %q: unterminated lookahead", expr)
		}
		not, err := regexp.Compile("^(?:" + rest[:end] + ")")
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", expr, err)
		}
		yes, err := regexp.Compile("^" + rest[end+1:])
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", expr, err)
		}
		return lookahead{not: not, yes: yes}, nil
	}
	return regexp.Compile(expr)
}

// lookahead matches strings that match yes but not not.
type lookahead struct{ not, yes *regexp.Regexp }

// MatchString implements openapi3.RegexMatcher.
func (l lookahead) MatchString(s string) bool { return !l.not.MatchString(s) && l.yes.MatchString(s) }
