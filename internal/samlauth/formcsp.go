package samlauth

import (
	"net/http"
	"strings"
)

// FormPagePolicy is the Content-Security-Policy of the auto-submitting
// HTML forms of the SAML HTTP-POST binding (the AuthnRequest and
// LogoutRequest forms to the IdP, the LogoutResponse form, samlsp's form
// replay after login): nothing loads, and only the scripts with the given
// hashes ('sha256-…', quoted) run; 'unsafe-inline' is never allowed.
// form-action is left open because the forms post to the IdP, whose origin
// the metadata may change at any refresh.
func FormPagePolicy(scriptHashes ...string) string {
	return "default-src 'none'; script-src " + strings.Join(scriptHashes, " ") +
		"; base-uri 'none'; frame-ancestors 'none'"
}

// formCSPWriter replaces the Content-Security-Policy samlsp writes on its
// auto-submitting form pages ("default-src; script-src '<hash>';
// reflected-xss block; referrer no-referrer;") with FormPagePolicy for the
// same script hashes. Chromium logs an error for each of the obsolete
// reflected-xss and referrer directives on every sign-in; what they meant
// is said by our policy and Referrer-Policy: no-referrer. Answers without
// a hash in their policy pass unchanged.
type formCSPWriter struct {
	http.ResponseWriter
	done bool
}

// strictFormCSP wraps w with formCSPWriter.
func strictFormCSP(w http.ResponseWriter) http.ResponseWriter {
	return &formCSPWriter{ResponseWriter: w}
}

func (w *formCSPWriter) fix() {
	if w.done {
		return
	}
	w.done = true
	h := w.Header()
	var hashes []string
	for _, p := range h.Values("Content-Security-Policy") {
		for _, f := range strings.FieldsFunc(p, func(r rune) bool { return r == ' ' || r == ';' }) {
			if strings.HasPrefix(f, "'sha256-") || strings.HasPrefix(f, "'sha384-") || strings.HasPrefix(f, "'sha512-") {
				hashes = append(hashes, f)
			}
		}
	}
	if len(hashes) == 0 {
		return
	}
	h.Set("Content-Security-Policy", FormPagePolicy(hashes...))
	h.Set("Referrer-Policy", "no-referrer")
}

// WriteHeader fixes the policy, then writes the status.
func (w *formCSPWriter) WriteHeader(code int) {
	w.fix()
	w.ResponseWriter.WriteHeader(code)
}

// Write fixes the policy before the first byte.
func (w *formCSPWriter) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

// Unwrap is for http.ResponseController.
func (w *formCSPWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
