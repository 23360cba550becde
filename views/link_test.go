package views

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func TestHTTPURL(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want templ.SafeURL // "" means refused
	}{
		{"accepts an https URL", "https://go.dev/blog", "https://go.dev/blog"},
		{"accepts an http URL with query and fragment", "http://a.example/p?q=1&r=2#top", "http://a.example/p?q=1&r=2#top"},
		{"accepts an upper-case scheme and lowers it", "HTTPS://go.dev/", "https://go.dev/"},
		{"accepts a port", "https://a.example:8443/x", "https://a.example:8443/x"},
		{"percent-encodes quotes in the path", `http://ok.example/"onmouseover="x`, "http://ok.example/%22onmouseover=%22x"},
		{"refuses the empty string", "", ""},
		{"refuses javascript", "javascript:alert(1)", ""},
		{"refuses mixed-case javascript", "JaVaScRiPt:alert(1)", ""},
		{"refuses javascript after a space", " JaVaScRiPt:alert(1)", ""},
		{"refuses javascript with a tab in the scheme", "java\tscript:alert(1)", ""},
		{"refuses a data URL", "data:text/html,<script>alert(1)</script>", ""},
		{"refuses vbscript", "vbscript:msgbox(1)", ""},
		{"refuses mailto", "mailto:a@example.com", ""},
		{"refuses a relative path", "/settings", ""},
		{"refuses a scheme-relative URL", "//evil.example/x", ""},
		{"refuses http without a host", "http:///x", ""},
		{"refuses http with a port only", "http://:80/x", ""},
		{"refuses an opaque http URL", "http:evil.example", ""},
		{"refuses backslashes that browsers read as slashes", `http:\\evil.example`, ""},
		{"refuses user info that disguises the host", "https://trusted.example@evil.example/", ""},
		{"refuses a leading space", " https://go.dev/", ""},
		{"refuses a newline inside", "https://go.dev/\nx", ""},
		{"refuses a control character", "https://go.dev/\x00", ""},
		{"refuses a URL longer than the limit", "https://a.example/" + strings.Repeat("a", maxURLLength), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := httpURL(tt.raw)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("httpURL(%q) = %q, %v; want %q", tt.raw, got, ok, tt.want)
			}
		})
	}
}
