package twitter

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// Credentials are the OAuth 1.0a keys of a Twitter app (the consumer) and
// of the account it streams as (the access token). All four are secrets:
// printing Credentials with any fmt verb, logging them with slog or
// encoding them as JSON shows only which of them are set, never a value.
// fmt cannot call those methods on Credentials held in an unexported
// field of a struct that is printed: keep them behind a pointer there.
type Credentials struct {
	ConsumerKey    string
	ConsumerSecret string
	AccessToken    string
	AccessSecret   string
}

// credentialField is one of the four keys: its field name, the variable
// CredentialsFromEnv reads it from, and its value.
type credentialField struct {
	name, env string
	value     *string
}

// fields lists c's keys, in the order errors and redacted forms name them.
func (c *Credentials) fields() []credentialField {
	return []credentialField{
		{"ConsumerKey", "TWITTER_CONSUMER_KEY", &c.ConsumerKey},
		{"ConsumerSecret", "TWITTER_CONSUMER_SECRET", &c.ConsumerSecret},
		{"AccessToken", "TWITTER_ACCESS_TOKEN", &c.AccessToken},
		{"AccessSecret", "TWITTER_ACCESS_SECRET", &c.AccessSecret},
	}
}

// CredentialsFromEnv reads TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET,
// TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_SECRET through getenv (os.Getenv,
// or a map in tests). Surrounding space is trimmed, and a value that is
// empty after that counts as missing. When any is missing it returns a
// one-line error that names every missing variable, and no value.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	var c Credentials
	var missing []string
	for _, f := range c.fields() {
		*f.value = strings.TrimSpace(getenv(f.env))
		if *f.value == "" {
			missing = append(missing, f.env)
		}
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("twitter: %s not set: "+
			"set them to your Twitter app's keys and access token (developer portal, \"Keys and tokens\")",
			strings.Join(missing, ", "))
	}
	return c, nil
}

// missing returns the names of the fields that are empty.
func (c Credentials) missing() []string {
	var names []string
	for _, f := range c.fields() {
		if *f.value == "" {
			names = append(names, f.name)
		}
	}
	return names
}

// redacted returns "set" or "missing" for value.
func redacted(value string) string {
	if value == "" {
		return "missing"
	}
	return "set"
}

// String tells which keys are set, as in
// "{ConsumerKey:set ConsumerSecret:set AccessToken:set AccessSecret:missing}".
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.name + ":" + redacted(*f.value))
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String in Go syntax, for %#v.
func (c Credentials) GoString() string {
	var b strings.Builder
	b.WriteString("twitter.Credentials{")
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s:%q", f.name, redacted(*f.value))
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints GoString for %#v and String for every other verb, so that
// no verb (%d, %x, ...) reaches the values.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue logs which keys are set.
func (c Credentials) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 4)
	for _, f := range c.fields() {
		attrs = append(attrs, slog.String(f.name, redacted(*f.value)))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes which keys are set, so that a JSON log handler given
// a struct that holds Credentials does not write the values either.
func (c Credentials) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, 4)
	for _, f := range c.fields() {
		m[f.name] = redacted(*f.value)
	}
	return json.Marshal(m)
}
