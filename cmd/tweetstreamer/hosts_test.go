package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// getAs requests path from s with the Host header set to host.
func getAs(t *testing.T, s *server, host, path string) (int, string) {
	t.Helper()
	return getWith(t, s, path, func(r *http.Request) { r.Host = host })
}

// getWith requests path from s, the request changed by edit first.
func getWith(t *testing.T, s *server, path string, edit func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	edit(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// dialAs opens /ws on s as a page served from host would: Host and Origin
// both name it, so the same-origin check alone lets it in.
func dialAs(s *server, host string) (*http.Response, error) {
	d := websocket.Dialer{}
	header := http.Header{"Host": {host}, "Origin": {"http://" + host}}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/ws", header)
	if conn != nil {
		conn.Close()
	}
	return resp, err
}

func TestAllowedHosts(t *testing.T) {
	t.Run("without the flag any name is answered, as on a fresh install", func(t *testing.T) {
		s := start(t, nil)
		if code, _ := getAs(t, s, "rebound.example:8080", "/"); code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
		if _, err := dialAs(s, "rebound.example:8080"); err != nil {
			t.Fatalf("dial: %v, want the upgrade", err)
		}
	})

	s := start(t, nil, "-allowed-hosts", "example.com,www.example.com")
	port := s.url[strings.LastIndex(s.url, ":"):]
	for _, host := range []string{"example.com" + port, "www.example.com", "EXAMPLE.com.", "127.0.0.1" + port, "[::1]" + port, "localhost" + port} {
		t.Run("answers "+host, func(t *testing.T) {
			for _, path := range []string{"/", "/healthz", "/readyz", "/column?room=golang"} {
				if code, body := getAs(t, s, host, path); code != http.StatusOK {
					t.Fatalf("%s: status %d (%q), want 200", path, code, body)
				}
			}
			if _, err := dialAs(s, host); err != nil {
				t.Fatalf("dial: %v, want the upgrade", err)
			}
		})
	}
	for _, host := range []string{"rebound.example" + port, "example.com.rebound.example", "notexample.com"} {
		t.Run("refuses "+host+" on every route", func(t *testing.T) {
			for _, path := range []string{"/", "/healthz", "/readyz", "/column?room=golang", "/assets/app.js"} {
				code, body := getAs(t, s, host, path)
				if code != http.StatusMisdirectedRequest || !strings.Contains(body, "-allowed-hosts") {
					t.Fatalf("%s: status %d (%q), want 421 naming -allowed-hosts", path, code, body)
				}
			}
			resp, err := dialAs(s, host)
			if err == nil || resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
				t.Fatalf("dial: %v (%v), want the upgrade refused with 421", err, resp)
			}
		})
	}
}

// TestTheProfilesAnswerNoRebindableName: the profiles hold the process's
// memory, so even without -allowed-hosts they answer only an IP address,
// localhost or a name the operator listed.
func TestTheProfilesAnswerNoRebindableName(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		host  string
		wants int
	}{
		{"an address is answered", nil, "127.0.0.1", http.StatusOK},
		{"localhost is answered", nil, "localhost", http.StatusOK},
		{"any other name is not, by default", nil, "rebound.example", http.StatusMisdirectedRequest},
		{"a listed name is", []string{"-allowed-hosts", "ops.example"}, "ops.example", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, nil, append([]string{"-debug-addr", "127.0.0.1:0"}, tt.args...)...)
			m := regexp.MustCompile(`"serving profiles" addr=(\S+)`).FindStringSubmatch(s.logs.String())
			if m == nil {
				t.Fatalf("no profiles served:\n%s", s.logs)
			}
			req, err := http.NewRequest(http.MethodGet, m[1], nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wants {
				t.Fatalf("GET %s as %s: %s, want %d", m[1], tt.host, resp.Status, tt.wants)
			}
		})
	}
}
