package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadReadsEnvironmentAndSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("sntryu_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--org", "from-flag"}, envOf(map[string]string{
		"SENTRY_URL":                     "https://sentry.example.com",
		"SENTRY_ORG":                     "from-env",
		"SENTRY_AUTH_TOKEN_FILE":         tokenFile,
		"SENTRY_ACCESS_SYNC_INTERVAL":    "5m",
		"SENTRY_ACCESS_WEBHOOK_ALLOW":    "10.20.0.0/16, 192.168.1.7,fd00::1",
		"SENTRY_ACCESS_SENSITIVE_GRANTS": "50",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SentryOrg != "from-flag" {
		t.Errorf("flags win over the environment: got org %q", c.SentryOrg)
	}
	if c.SentryToken != "sntryu_from_file" {
		t.Errorf("the *_FILE variant is read and trimmed: got %q", c.SentryToken)
	}
	if c.SyncInterval.Minutes() != 5 {
		t.Errorf("sync interval: got %v", c.SyncInterval)
	}
	if c.SensitiveGrants != 50 {
		t.Errorf("sensitive grants: got %d", c.SensitiveGrants)
	}
	if got := fmt.Sprint(c.WebhookAllow); got != "[10.20.0.0/16 192.168.1.7/32 fd00::1/128]" {
		t.Errorf("webhook allowlist: got %s", got)
	}
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	_, err := Load(nil, nil, envOf(map[string]string{
		"SENTRY_ACCESS_SYNC_INTERVAL":    "often",
		"SENTRY_ACCESS_SYNC_CONCURRENCY": "many",
		"SENTRY_AUTH_TOKEN_FILE":         "/does/not/exist",
		"SAML_ALLOW_IDP_INITIATED":       "maybe",
		"SENTRY_ACCESS_WEBHOOK_ALLOW":    "10.0.0.0/8,intranet",
	}))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"SENTRY_ACCESS_SYNC_INTERVAL", "SENTRY_ACCESS_SYNC_CONCURRENCY", "SENTRY_AUTH_TOKEN_FILE", "SAML_ALLOW_IDP_INITIATED", `SENTRY_ACCESS_WEBHOOK_ALLOW: "intranet"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.SentryURL = "ftp://nope"
	c.AttributePreset = "ldap"
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"SENTRY_URL", "SENTRY_ORG", "SENTRY_AUTH_TOKEN", "SENTRY_ACCESS_BASE_URL", "SESSION_KEY", "SAML_IDP_METADATA", "SAML_SP_KEY_FILE", "SAML_ATTRIBUTE_PRESET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestValidateSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.SentryToken = "sntryu_supersecretvalue"
	c.SessionKey = "short-secret"
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "supersecret") || err != nil && strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("a secret leaked into an error: %v", err)
	}
}
