package main

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

func TestEndToEndOnTheMockSource(t *testing.T) {
	s := start(t, nil, "-mock-rate", "200", "-trends", "golang,rust,zig")
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	j := c.next()
	if j["type"] != "joined" || j["room"] != "golang" {
		t.Fatalf("got %v, want joined golang", j)
	}
	// Backlog and live tweets: all for golang only, seq growing by one.
	var last float64
	for range 20 {
		m := c.next()
		if m["type"] != "tweet" || m["room"] != "golang" {
			t.Fatalf("got %v, want a golang tweet", m)
		}
		seq := m["seq"].(float64)
		if last != 0 && seq != last+1 {
			t.Fatalf("seq %v after %v", seq, last)
		}
		last = seq
		html, _ := m["html"].(string)
		if !strings.Contains(html, `data-testid="card"`) {
			t.Fatalf("html %q is not a rendered card", html)
		}
	}
	c.send(`{"type":"leave","room":"golang"}`)
	for {
		m := c.next()
		if m["type"] == "left" {
			break
		}
		if m["type"] != "tweet" {
			t.Fatalf("got %v before left", m)
		}
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			break
		}
		if strings.Contains(string(data), `"type":"tweet"`) {
			t.Fatalf("tweet after left: %s", data)
		}
	}
}

func TestPages(t *testing.T) {
	s := start(t, nil, "-mock-rate", "100")
	time.Sleep(200 * time.Millisecond) // let some tweets arrive

	tests := []struct {
		name   string
		path   string
		status int
		want   []string
	}{
		{"the page lists the trends", "/", 200, []string{`data-testid="trends"`, `data-room="golang"`, `data-room="#webdev"`, `src="/assets/app.`}},
		{"open columns are rendered with their epoch and seq", "/?open=golang,Rust", 200, []string{`data-testid="column" data-room="golang" data-epoch="`, `data-room="rust"`, `data-testid="card"`}},
		{"a bad trend in the URL is explained", "/?open=%07", 200, []string{"control character"}},
		{"a column fragment", "/column?room=golang", 200, []string{`data-testid="column"`, `data-room="golang"`}},
		{"a column for a trend with no room yet follows it", "/column?room=zig", 200, []string{`data-room="zig"`, `data-epoch="`}},
		{"a column for a bad trend", "/column?room=", 400, []string{"needs a name"}},
		{"health", "/healthz", 200, []string{`"status":"ok"`, `"state":"streaming"`}},
		{"the script", "/assets/app.js", 200, []string{"WebSocket"}},
		{"an unknown path", "/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.get(t, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy = %q, want a strict one", csp)
			}
		})
	}
}

func TestReplaySourceEndsAndTheServerKeepsServing(t *testing.T) {
	s := start(t, nil, "-source", "replay", "-replay-file", "../../testdata/sample.jsonl", "-replay-speed", "0")
	waitEnded(t, s)
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	j := c.next()
	if j["type"] != "joined" || j["seq"].(float64) == 0 {
		t.Fatalf("joined = %v, want the replayed tweets in the room", j)
	}
	if m := c.next(); m["type"] != "tweet" || m["tweet"].(map[string]any)["source"] != "replay" {
		t.Fatalf("backlog = %v, want a replayed tweet", m)
	}
}

func TestShutdownClosesSocketsWithGoingAway(t *testing.T) {
	s := start(t, nil)
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	c.next()
	began := time.Now()
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v, want nil after a clean shutdown", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("shutdown took %v, want under 5 s", took)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = c.conn.ReadMessage()
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("socket ended with %v, want close 1001", err)
	}
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Errorf("server still answers after shutdown")
	}
}

func TestConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" for success
	}{
		{"defaults are valid", nil, nil, ""},
		{"an unknown flag", []string{"-nope"}, nil, "flag provided but not defined: -nope"},
		{"a bad number", []string{"-mock-rate", "fast"}, nil, `invalid value "fast" for flag -mock-rate`},
		{"a bad number in the environment", nil, map[string]string{"TS_MOCK_RATE": "fast"}, `invalid value "fast" in TS_MOCK_RATE`},
		{"an unknown source", []string{"-source", "carrier-pigeon"}, nil, "-source must be one of mock, replay, jetstream, twitter"},
		{"replay without a file", []string{"-source", "replay"}, nil, "-source replay needs -replay-file"},
		{"a negative replay speed", []string{"-replay-speed", "-1"}, nil, "-replay-speed must be 0"},
		{"a bad trend", []string{"-trends", "go,\x01"}, nil, "control character"},
		{"more trends than allowed", []string{"-trends", "a,b,c", "-max-trends", "2"}, nil, "3 trends given but -max-trends is 2"},
		{"no rooms per connection", []string{"-max-rooms", "0"}, nil, "-max-rooms must be at least 1"},
		{"a negative flush interval", []string{"-flush-interval", "-1ms"}, nil, "-flush-interval must not be negative"},
		{"a bad log level", []string{"-log-level", "loud"}, nil, "-log-level must be debug, info, warn or error"},
		{"a stray argument", []string{"serve"}, nil, `unexpected argument "serve"`},
		{"a zero retrack interval", []string{"-retrack-interval", "0s"}, nil, "-retrack-interval must be above 0"},
		{"a zero trending window", []string{"-trending-window", "0s"}, nil, "-trending-window must be above 0"},
		{"an address without a port", []string{"-addr", "notanaddr"}, nil, `-addr "notanaddr": want host:port`},
		{"an origin that is not one", []string{"-allowed-origins", "notaurl"}, nil, `-allowed-origins: "notaurl": want an origin`},
		{"an origin with a path", []string{"-allowed-origins", "https://example.com/app"}, nil, `"https://example.com/app": want an origin`},
		{"no connection allowed", []string{"-max-conns", "0"}, nil, "-max-conns must be at least 1"},
		{"no connection per address", []string{"-max-conns-per-ip", "0"}, nil, "-max-conns-per-ip must be at least 1"},
		{"a negative custom trend count", []string{"-max-trends-per-ip", "-1"}, nil, "-max-trends-per-ip must not be negative"},
		{"no custom trend per connection", []string{"-max-trends-per-ip", "0"}, nil, ""},
		{"a zero roomless timeout", []string{"-roomless-timeout", "0s"}, nil, "-roomless-timeout must be above 0"},
		{"a proxy that is no address", []string{"-trusted-proxies", "proxy.local"}, nil, "-trusted-proxies"},
		{"proxies as addresses and ranges", []string{"-trusted-proxies", "10.0.0.0/8,192.0.2.1"}, nil, ""},
		{"a host with a port", []string{"-allowed-hosts", "example.com:8080"}, nil, `-allowed-hosts: "example.com:8080": want a bare host name`},
		{"a host with a scheme", []string{"-allowed-hosts", "https://example.com"}, nil, `want a bare host name`},
		{"a host in capitals", []string{"-allowed-hosts", "Example.com"}, nil, `write it in lower case`},
		{"two hosts", []string{"-allowed-hosts", "example.com,www.example.com"}, nil, ""},
		{"an origin and any", []string{"-allowed-origins", "https://example.com,*"}, nil, ""},
		{"a place that cannot be", []string{"-twitter-woeid", "-3"}, nil, "-twitter-woeid must be a place's WOEID"},
		{"no trend at all", []string{"-trends", ""}, nil, "-trends needs at least one trend"},
		{"a port past 65535", []string{"-addr", "127.0.0.1:99999"}, nil, "the port must be a number from 0 to 65535"},
		{"a debug address without a port", []string{"-debug-addr", "bogus"}, nil, `-debug-addr "bogus": want host:port`},
		{"record onto a file that exists", []string{"record", "-o", "server_test.go"}, nil, "-o server_test.go exists already"},
		{"record: valid", []string{"record", "-source", "mock", "-o", "talk.jsonl", "-duration", "1m"}, nil, ""},
		{"record without -o", []string{"record", "-source", "mock"}, nil, "-o is required"},
		{"record for no time", []string{"record", "-o", "x.jsonl", "-duration", "0s"}, nil, "-duration must be above 0"},
		{"record takes no server flags", []string{"record", "-o", "x.jsonl", "-addr", ":1"}, nil, "flag provided but not defined: -addr"},
		{"the server takes no recording flags", []string{"-o", "x.jsonl"}, nil, "flag provided but not defined: -o"},
		{"twitter without credentials", []string{"-source", "twitter"}, map[string]string{"TWITTER_ACCESS_TOKEN": "at"},
			"TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_SECRET"},
		{"twitter past its track limit", []string{"-source", "twitter", "-max-trends", "401"}, twitterEnv, "-max-trends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, environOf(tt.env), &strings.Builder{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var stderr strings.Builder
			if code := exitCode(err, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if out := stderr.String(); strings.Count(out, "\n") != 1 {
				t.Errorf("error output %q, want one line", out)
			}
		})
	}
}

func TestEnvironmentSetsFlagsAndTheCommandLineWins(t *testing.T) {
	env := map[string]string{"TS_MOCK_RATE": "42", "TS_TRENDS": "a,b", "TS_REPLAY_LOOP": "true"}
	cfg, err := parseConfig([]string{"-trends", "c"}, environOf(env), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.mockRate != 42 || !cfg.replayLoop || strings.Join(cfg.trends, ",") != "c" {
		t.Fatalf("config = %+v, want mock rate 42 and replay loop from the environment, trends c from the command line", cfg)
	}
}

func TestAnEnvironmentVariableThatNamesNoFlagIsReported(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    []strayVar
	}{
		{"a longer name", nil, []string{"TS_ADDRESS=:9090"}, []strayVar{{"TS_ADDRESS", "TS_ADDR"}}},
		{"a typo", nil, []string{"TS_MOCK_RTAE=5"}, []strayVar{{"TS_MOCK_RTAE", "TS_MOCK_RATE"}}},
		{"nothing close", nil, []string{"TS_COLOUR_SCHEME=dark"}, []strayVar{{"TS_COLOUR_SCHEME", ""}}},
		{"a server flag when recording", []string{"record", "-o", "x.jsonl"}, []string{"TS_ADDR=:1"}, nil},
		{"once, however often it is listed", nil, []string{"TS_ADDRESS=a", "TS_ADDRESS=b"}, []strayVar{{"TS_ADDRESS", "TS_ADDR"}}},
		{"flags and other variables are not", nil, append([]string{"TS_ADDR=:1", "TS_MOCK_RATE=3", "PATH=/bin", "TS=1"}, environOf(twitterEnv)...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, tt.environ, &strings.Builder{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.strayEnv, tt.want) {
				t.Errorf("stray variables %v, want %v", cfg.strayEnv, tt.want)
			}
		})
	}
	t.Run("run warns at start, naming the likely flag", func(t *testing.T) {
		s := start(t, map[string]string{"TS_ADDRESS": ":9090"})
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
		logs := s.logs.String()
		if n := strings.Count(logs, "names no flag"); n != 1 || !strings.Contains(logs, "var=TS_ADDRESS did_you_mean=TS_ADDR") {
			t.Errorf("logs say %d times that a variable names no flag, want once with TS_ADDRESS and TS_ADDR:\n%s", n, logs)
		}
	})
	t.Run("record warns too", func(t *testing.T) {
		var stderr strings.Builder
		err := run(t.Context(), []string{"tweetstreamer", "record", "-source", "mock", "-duration", "100ms", "-o", filepath.Join(t.TempDir(), "x.jsonl")},
			[]string{"TS_DURATON=1m"}, &strings.Builder{}, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr.String(), "var=TS_DURATON did_you_mean=TS_DURATION") {
			t.Errorf("record's logs lack the stray variable:\n%s", stderr.String())
		}
	})
}

func TestHelpDescribesEveryFlag(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"tweetstreamer", "-h"}, nil, &out, &out)
	if err != nil {
		t.Fatalf("-h: %v, want no error", err)
	}
	for _, flag := range []string{"-addr", "-source", "-trends", "-mock-rate", "-replay-file", "-replay-speed", "-replay-loop", "-history", "-max-rooms", "-max-trends", "-allowed-origins", "TS_MOCK_RATE"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("-h output lacks %s", flag)
		}
	}
}

func TestAFailingListenIsAnError(t *testing.T) {
	s := start(t, nil)
	addr := strings.TrimPrefix(s.url, "http://")
	err := run(t.Context(), []string{"tweetstreamer", "-addr", addr}, nil, &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "listening on") {
		t.Fatalf("run on a taken port: %v, want a listen error", err)
	}
	if code := exitCode(err, &strings.Builder{}); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

// The flags default to what rooms.Config does for a zero field, and the
// flag's 0 for -flush-interval reaches the hub as its "at once".
func TestFlagDefaultsAreTheRoomsDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.history != rooms.DefaultHistory || cfg.maxRooms != rooms.DefaultMaxRoomsPerConn ||
		cfg.idleTrendTTL != rooms.DefaultIdleTrendTTL || cfg.flushInterval != rooms.DefaultFlushInterval {
		t.Errorf("-history %d, -max-rooms %d, -idle-trend-ttl %v, -flush-interval %v: want rooms' defaults",
			cfg.history, cfg.maxRooms, cfg.idleTrendTTL, cfg.flushInterval)
	}
	if got := flushInterval(0); got != rooms.FlushAtOnce {
		t.Errorf("-flush-interval 0 gives the hub %v, want rooms.FlushAtOnce", got)
	}
	if got := flushInterval(cfg.flushInterval); got != rooms.DefaultFlushInterval {
		t.Errorf("the default -flush-interval gives the hub %v, want %v", got, rooms.DefaultFlushInterval)
	}
}

// One environment often serves the server and record: a variable of the
// other command's flags is no typo.
func TestTheOtherCommandsVariablesAreNoTypo(t *testing.T) {
	env := map[string]string{"TS_ADDR": ":9999", "TS_MAX_CONNS": "5", "TS_ADRR": ":1", "TS_DURATION": "1m"}
	for _, args := range [][]string{{"record", "-o", filepath.Join(t.TempDir(), "x.jsonl")}, {}} {
		cfg, err := parseConfig(args, environOf(env), &strings.Builder{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range cfg.strayEnv {
			names = append(names, v.name)
		}
		if !slices.Equal(names, []string{"TS_ADRR"}) {
			t.Errorf("%v: stray variables %v, want only the typo TS_ADRR", args, names)
		}
	}
}
