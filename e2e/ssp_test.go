package e2e

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
)

// sspWWW is where Debian's simplesamlphp package puts SimpleSAMLphp's
// document root.
const sspWWW = "/usr/share/simplesamlphp/www"

// TestSimpleSAMLphpLogin is the interop check against a third-party IdP:
// Debian's SimpleSAMLphp under `php -S` on loopback, configured from
// scratch in a temporary directory (its own config, not /etc/simplesamlphp), with the
// dashboard's SP reading its metadata by URL. alice signs in through
// SimpleSAMLphp's own login form in chromium and lands on the dashboard
// with the role her eduPersonAffiliation grants.
func TestSimpleSAMLphpLogin(t *testing.T) {
	page := newPage(t) // skips without a browser
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("SimpleSAMLphp interop needs php (apt-get install simplesamlphp php-cli php-xml php-mbstring)")
	}
	if _, err := os.Stat(sspWWW); err != nil {
		t.Skipf("SimpleSAMLphp interop needs %s (apt-get install simplesamlphp php-cli php-xml php-mbstring)", sspWWW)
	}

	// The dashboard listens first: SimpleSAMLphp's SP entry names its URLs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "listen for the dashboard")
	t.Cleanup(func() { ln.Close() })
	base := "http://" + ln.Addr().String()

	idpBase := startSimpleSAMLphp(t, php, base)
	metadataURL := idpBase + "/saml2/idp/metadata.php"
	waitForMetadata(t, metadataURL)

	// The Sentry simulator and a store behind a dashboard built with New.
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{})
	must(t, err, "simulator")
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "listen for the simulator")
	simSrv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go simSrv.Serve(simLn)
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	simURL := "http://" + simLn.Addr().String()
	creds := sim.Tokens()
	client, err := sentry.New(sentry.Config{BaseURL: simURL, Org: creds.Org, Token: creds.OwnerToken, UserAgent: "sentry-access/e2e"})
	must(t, err, "Sentry client")
	st, err := store.Open(filepath.Join(t.TempDir(), "sentry-access.db"), store.Options{Timeout: 2 * time.Second})
	must(t, err, "store")
	t.Cleanup(func() { st.Close() })

	key, cert, err := samlauth.GenerateKeyPair("sentry-access e2e SP", time.Now())
	must(t, err, "SP key pair")
	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := dashboard.New(ctx, dashboard.Options{
		BaseURL: base, Store: st, Sentry: client, SessionKey: sessionKey,
		Connection: explore.ConnectionConfig{SentryURL: simURL, Org: creds.Org, Token: creds.OwnerToken},
		SAML: samlauth.Config{
			Key: key, Certificate: cert, IDPMetadataURL: metadataURL,
			Preset: samlauth.PresetGeneric,
			// Roles from eduPersonAffiliation: alice is "member" and "staff".
			Roles: samlauth.RoleGroups{Viewer: []string{"member"}, Approver: []string{"staff"}},
		},
	})
	must(t, err, "build the dashboard")
	_, err = srv.SyncNow(ctx)
	must(t, err, "first sync")
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	// alice signs in at SimpleSAMLphp.
	_, err = page.Goto(base + "/")
	must(t, err, "open the dashboard")
	must(t, page.Locator(`input[name="username"]`).Fill("alice"), "SimpleSAMLphp login form (at "+page.URL()+")")
	if !strings.HasPrefix(page.URL(), idpBase) {
		t.Errorf("login form at %s, want SimpleSAMLphp at %s", page.URL(), idpBase)
	}
	must(t, page.Locator(`input[name="password"]`).Fill("alicepass"), "password")
	screenshot(t, page, "ssp-login-form")
	must(t, page.Locator(`input[name="password"]`).Press("Enter"), "submit the login form")

	if err := expect().Locator(byTestID(page, "user-email")).ToHaveText("alice@acme.test"); err != nil {
		body, _ := page.Locator("body").TextContent()
		t.Fatalf("not signed in as alice: %v (at %s)\n%.600s", err, page.URL(), body)
	}
	check(t, expect().Locator(byTestID(page, "user-role")).ToHaveText("approver"), "role from eduPersonAffiliation")
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Overview"), "overview")
	check(t, expect().Page(page).ToHaveURL(base+"/"), "back on the dashboard")
	screenshot(t, page, "ssp-signed-in")
}

// startSimpleSAMLphp writes a self-contained SimpleSAMLphp IdP config into
// a temporary directory (user alice/alicepass with mail and
// eduPersonAffiliation, a fresh signing key, the dashboard at sp as its
// only SP, NameID = mail in email format) and serves it with `php -S` on a
// free loopback port until the test ends. It returns the IdP's base URL.
func startSimpleSAMLphp(t *testing.T, php, sp string) string {
	t.Helper()
	port := freePort(t)
	idpBase := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := t.TempDir()
	for _, d := range []string{"config", "cert", "data", "tmp", "metadata"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755), "mkdir "+d)
	}
	key, cert, err := samlauth.GenerateKeyPair("e2e SimpleSAMLphp IdP", time.Now())
	must(t, err, "IdP key pair")
	writeFile(t, filepath.Join(dir, "cert", "idp.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	writeFile(t, filepath.Join(dir, "cert", "idp.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))

	salt := make([]byte, 16)
	rand.Read(salt)
	q := phpString
	writeFile(t, filepath.Join(dir, "config", "config.php"), []byte(`<?php
$config = [
  'baseurlpath' => `+q(idpBase+"/")+`,
  'certdir' => `+q(dir+"/cert/")+`,
  'datadir' => `+q(dir+"/data/")+`,
  'tempdir' => `+q(dir+"/tmp/")+`,
  'loggingdir' => `+q(dir+"/")+`,
  'metadata.sources' => [['type' => 'flatfile', 'directory' => `+q(dir+"/metadata/")+`]],
  'secretsalt' => `+q(fmt.Sprintf("e2e-%x", salt))+`,
  'auth.adminpassword' => `+q(fmt.Sprintf("admin-%x", salt))+`,
  'technicalcontact_email' => 'dev@example.invalid',
  'timezone' => 'UTC',
  'logging.handler' => 'errorlog',
  'logging.level' => SimpleSAML\Logger::WARNING,
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.phpsession.savepath' => `+q(dir+"/tmp/")+`,
  'session.cookie.secure' => false,
  'session.cookie.samesite' => 'Lax',
  'session.cookie.name' => 'SSPSESSID',
  'session.phpsession.cookiename' => 'SSPPHPSESSID',
  'session.authtoken.cookiename' => 'SSPAuthToken',
];
`))
	writeFile(t, filepath.Join(dir, "config", "authsources.php"), []byte(`<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => ['exampleauth:UserPass',
    'alice:alicepass' => [
      'uid' => ['alice'],
      'mail' => ['alice@acme.test'],
      'displayName' => ['Alice Smith'],
      'eduPersonAffiliation' => ['member', 'staff'],
    ],
  ],
];
`))
	writeFile(t, filepath.Join(dir, "metadata", "saml20-idp-hosted.php"), []byte(`<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
];
`))
	writeFile(t, filepath.Join(dir, "metadata", "saml20-sp-remote.php"), []byte(`<?php
$metadata[`+q(sp+samlauth.MetadataPath)+`] = [
  'AssertionConsumerService' => `+q(sp+samlauth.ACSPath)+`,
  'SingleLogoutService' => `+q(sp+samlauth.SLOPath)+`,
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'simplesaml.nameidattribute' => 'mail',
  'saml20.sign.response' => true,
  'saml20.sign.assertion' => true,
];
`))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, php, "-S", fmt.Sprintf("127.0.0.1:%d", port), "-t", sspWWW)
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(dir, "config"))
	logf, err := os.Create(filepath.Join(dir, "php.log"))
	must(t, err, "php log")
	cmd.Stdout, cmd.Stderr = logf, logf
	must(t, cmd.Start(), "start php -S")
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("SimpleSAMLphp log (last 2000 bytes):\n%s", tail(b, 2000))
			}
		}
	})
	return idpBase
}

// waitForMetadata polls the IdP's metadata URL until it answers 200: the
// SP fetches the metadata once when it is built.
func waitForMetadata(t *testing.T, url string) {
	t.Helper()
	var last error
	for range 200 { // up to ~20 s; SimpleSAMLphp is usually up in 0.2 s
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("SimpleSAMLphp metadata at %s never answered: %v", url, last)
}

// freePort returns a loopback port that was free a moment ago (php -S
// takes a port number, not a listener).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "find a free port")
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// phpString quotes s as a single-quoted PHP string literal.
func phpString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	must(t, os.WriteFile(path, b, 0o600), "write "+path)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
