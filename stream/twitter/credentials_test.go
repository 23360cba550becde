package twitter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testCredentials hold values that no redacted form may contain.
var testCredentials = Credentials{
	ConsumerKey:    "ck-7Qm2Vx9LpA",
	ConsumerSecret: "cs-SECRET-5f1e2d9c8b7a",
	AccessToken:    "at-1234567-Zx9WvU",
	AccessSecret:   "as-SECRET-a7b8c9d0e1f2",
}

// secrets are the values of testCredentials.
var secrets = []string{
	testCredentials.ConsumerKey, testCredentials.ConsumerSecret,
	testCredentials.AccessToken, testCredentials.AccessSecret,
}

// assertNoSecret fails t if s contains a value of testCredentials.
func assertNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds the secret %q:\n%s", where, secret, s)
		}
	}
}

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestCredentialsFromEnv(t *testing.T) {
	all := map[string]string{
		"TWITTER_CONSUMER_KEY":    testCredentials.ConsumerKey,
		"TWITTER_CONSUMER_SECRET": testCredentials.ConsumerSecret,
		"TWITTER_ACCESS_TOKEN":    " " + testCredentials.AccessToken + "\n", // pasted with space around
		"TWITTER_ACCESS_SECRET":   testCredentials.AccessSecret,
	}
	t.Run("reads all four, trimmed", func(t *testing.T) {
		c, err := CredentialsFromEnv(env(all))
		if err != nil || c != testCredentials {
			t.Errorf("CredentialsFromEnv = %v, %v", c, err)
		}
	})
	tests := []struct {
		name    string
		drop    []string
		blank   []string
		missing string
	}{
		{"one missing", []string{"TWITTER_ACCESS_SECRET"}, nil, "TWITTER_ACCESS_SECRET not set"},
		{"every missing one is named, in order",
			[]string{"TWITTER_ACCESS_SECRET", "TWITTER_CONSUMER_KEY"}, []string{"TWITTER_ACCESS_TOKEN"},
			"TWITTER_CONSUMER_KEY, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := make(map[string]string)
			for k, v := range all {
				vars[k] = v
			}
			for _, k := range tt.drop {
				delete(vars, k)
			}
			for _, k := range tt.blank {
				vars[k] = "   "
			}
			c, err := CredentialsFromEnv(env(vars))
			if err == nil {
				t.Fatalf("CredentialsFromEnv = %v, want an error", c)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.missing) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %q", msg, tt.missing)
			}
			assertNoSecret(t, "the error", msg)
			if c != (Credentials{}) {
				t.Errorf("credentials %v returned with the error", c)
			}
		})
	}
}

func TestCredentialsNeverPrintTheirValues(t *testing.T) {
	half := testCredentials
	half.AccessSecret = ""
	type holder struct {
		Name  string
		Creds Credentials
	}
	for _, c := range []Credentials{testCredentials, half} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
			assertNoSecret(t, "fmt "+verb, fmt.Sprintf(verb, c))
			assertNoSecret(t, "fmt "+verb+" of a pointer", fmt.Sprintf(verb, &c))
			assertNoSecret(t, "fmt "+verb+" of a struct holding them", fmt.Sprintf(verb, holder{"x", c}))
		}
		assertNoSecret(t, "fmt of a Config", fmt.Sprintf("%+v %#v", Config{Credentials: c}, Config{Credentials: c}))
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			logger := slog.New(h(&buf))
			logger.Info("creds", "c", c, "p", &c, "config", Config{Credentials: c}, "holder", holder{"x", c})
			assertNoSecret(t, "slog", buf.String())
		}
		b, err := json.Marshal(holder{"x", c})
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, "JSON", string(b))
	}
}

func TestCredentialsRedactedFormsSayWhatIsMissing(t *testing.T) {
	c := testCredentials
	c.AccessSecret = ""
	if got, want := c.String(), "{ConsumerKey:set ConsumerSecret:set AccessToken:set AccessSecret:missing}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%#v", c); !strings.Contains(got, `AccessSecret:"missing"`) || !strings.HasPrefix(got, "twitter.Credentials{") {
		t.Errorf("%%#v = %q", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "creds", c)
	if !strings.Contains(buf.String(), "creds.AccessSecret=missing") {
		t.Errorf("slog text: %q", buf.String())
	}
}
