// Package static embeds the dashboard's browser assets (htmx, app.js,
// app.css, favicon.svg) and serves them under content-addressed paths, so
// that they can be cached forever: a changed file gets a new URL.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// HTMXVersion is the vendored htmx release (see VENDOR.md).
const HTMXVersion = "2.0.11"

// Prefix is the URL path under which Assets serves files.
const Prefix = "/static/"

//go:embed htmx.min.js app.js app.css favicon.svg
var files embed.FS

// asset is one embedded file with its content hash.
type asset struct {
	body []byte
	hash string // first 12 hex digits of the SHA-256 of body
	mime string
}

// Assets serves the embedded files. Build it with New; it is immutable and
// safe for concurrent use.
type Assets struct {
	byName map[string]asset
}

// New reads and hashes the embedded files.
func New() (*Assets, error) {
	a := &Assets{byName: map[string]asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.byName[name] = asset{body: b, hash: hex.EncodeToString(sum[:])[:12], mime: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	return a, nil
}

// Path returns the cacheable URL path of the named file, such as
// "/static/3f2a9c1b0d4e/app.css". It panics for a name that is not embedded,
// which is a programming error caught by any test that renders a page.
func (a *Assets) Path(name string) string {
	f, ok := a.byName[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return Prefix + f.hash + "/" + name
}

// ServeHTTP serves GET and HEAD for "/static/<hash>/<name>". A current hash
// is answered with a one-year immutable cache lifetime; a stale hash (an old
// page asking for an old version) gets the current file with no-cache, so it
// still works. Every answer carries a strong ETag.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	hash, name, ok2 := strings.Cut(rest, "/")
	f, found := a.byName[name]
	if !ok || !ok2 || !found {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	etag := `"` + f.hash + `"`
	h.Set("ETag", etag)
	h.Set("Content-Type", f.mime)
	h.Set("X-Content-Type-Options", "nosniff")
	if hash == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(f.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.body) // a failed write means the client went away
	}
}
