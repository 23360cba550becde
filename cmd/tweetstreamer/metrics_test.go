package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is one scrape of /metrics, by metric name.
type families map[string]*dto.MetricFamily

// scrape fetches and parses the server's /metrics.
func (s *server) scrape(t *testing.T) families {
	t.Helper()
	resp, body := s.get(t, "/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q, want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the series of name whose labels include
// pairs (name, value, name, value...), and whether there is one. A
// histogram's value is its count of observations.
func (f families) value(name string, pairs ...string) (float64, bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.Metric {
		if !hasLabels(m, pairs) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// must returns the value of a series that must be there.
func (f families) must(t *testing.T, name string, pairs ...string) float64 {
	t.Helper()
	v, ok := f.value(name, pairs...)
	if !ok {
		t.Fatalf("no series %s%v", name, pairs)
	}
	return v
}

// waitMetrics scrapes until ok holds for a scrape, for at most five
// seconds, and returns that scrape.
func (s *server) waitMetrics(t *testing.T, what string, ok func(families) bool) families {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f := s.scrape(t)
		if ok(f) {
			return f
		}
		if time.Now().After(deadline) {
			_, body := s.get(t, "/metrics")
			t.Fatalf("metrics never showed %s:\n%s", what, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetricsFollowAConnectionThroughJoinErrorDeliveryAndClose(t *testing.T) {
	const custom = "zebra crossing 42"
	s := start(t, nil, "-mock-rate", "200", "-trends", "golang,rust")

	before := s.scrape(t)
	if got := before.must(t, "tweetstreamer_connections"); got != 0 {
		t.Fatalf("connections before any client: %v", got)
	}
	if got := before.must(t, "tweetstreamer_rooms", "kind", "configured"); got != 2 {
		t.Fatalf("configured rooms: %v, want 2", got)
	}

	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	joined := c.nextOfType("joined")
	c.nextOfType("tweet")
	c.send(`{"type":"no such type"}`)
	if m := c.nextOfType("error"); m["code"] != "bad_request" {
		t.Fatalf("got %v, want a bad_request error", m)
	}
	c.send(`{"type":"join","room":"` + custom + `"}`)
	c.nextWhere(inRoom(custom, "joined"))
	c.send(fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":%d}`, joined["epoch"], uint64(joined["seq"].(float64))))
	if m := c.nextWhere(inRoom("golang", "joined")); m["recovered"] != true {
		t.Fatalf("got %v, want a recovered join", m)
	}
	// A live tweet after the recovery, so that its frame's write is seen.
	c.nextWhere(inRoom("golang", "tweet"))

	during := s.waitMetrics(t, "the client's live tweets written", func(f families) bool {
		v, _ := f.value("tweetstreamer_broadcast_latency_seconds")
		return v > 0
	})
	for _, want := range []struct {
		name  string
		pairs []string
		value float64
	}{
		{"tweetstreamer_connections", nil, 1},
		{"tweetstreamer_connections_opened_total", nil, 1},
		{"tweetstreamer_connections_compressed_total", nil, 0},
		{"tweetstreamer_messages_compressed_total", nil, 0},
		{"tweetstreamer_memberships", nil, 2},
		{"tweetstreamer_rooms", []string{"kind", "configured"}, 2},
		{"tweetstreamer_rooms", []string{"kind", "custom"}, 1},
		{"tweetstreamer_client_errors_total", []string{"code", "bad_request"}, 1},
		{"tweetstreamer_client_errors_total", []string{"code", "bad_room"}, 0},
		{"tweetstreamer_recoveries_total", []string{"outcome", "recovered"}, 1},
		{"tweetstreamer_recoveries_total", []string{"outcome", "not_recovered"}, 0},
		{"tweetstreamer_source_state", []string{"source", "mock", "state", "streaming"}, 1},
		{"tweetstreamer_build_info", nil, 1},
	} {
		if got := during.must(t, want.name, want.pairs...); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.pairs, got, want.value)
		}
	}
	for _, grew := range []struct {
		name  string
		pairs []string
	}{
		{"tweetstreamer_tweets_received_total", []string{"source", "mock"}},
		{"tweetstreamer_tweets_matched_total", []string{"source", "mock"}},
		{"tweetstreamer_tweets_routed_total", []string{"source", "mock"}},
		{"tweetstreamer_deliveries_total", nil},
		{"tweetstreamer_ws_frames_written_total", nil},
		{"tweetstreamer_ws_written_bytes_total", nil},
	} {
		if got := during.must(t, grew.name, grew.pairs...); got <= 0 {
			t.Errorf("%s%v = %v, want more than 0", grew.name, grew.pairs, got)
		}
	}
	received := during.must(t, "tweetstreamer_tweets_received_total", "source", "mock")
	if matched := during.must(t, "tweetstreamer_tweets_matched_total", "source", "mock"); matched > received {
		t.Errorf("matched %v of %v received", matched, received)
	}
	if lag := during.must(t, "tweetstreamer_source_lag_seconds", "source", "mock"); lag < 0 || lag > 5 {
		t.Errorf("the mock's lag is %v s, want a few milliseconds", lag)
	}

	assertNoRoomInLabels(t, during, "golang", "rust", custom)

	if err := c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	after := s.waitMetrics(t, "the connection closed", func(f families) bool {
		v, _ := f.value("tweetstreamer_connections")
		return v == 0
	})
	if got := after.must(t, "tweetstreamer_connections_closed_total", "reason", "gone"); got != 1 {
		t.Errorf("closed by the client: %v, want 1", got)
	}
	if got := after.must(t, "tweetstreamer_connections_closed_total", "reason", "shutdown"); got != 0 {
		t.Errorf("closed for shutdown: %v, want 0", got)
	}
	if got := after.must(t, "tweetstreamer_memberships"); got != 0 {
		t.Errorf("memberships after the close: %v, want 0", got)
	}
}

// assertNoRoomInLabels fails if any label of any series holds one of the
// room names: custom trends would make such a label unbounded.
func assertNoRoomInLabels(t *testing.T, f families, roomNames ...string) {
	t.Helper()
	for name, fam := range f {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				for _, room := range roomNames {
					if strings.Contains(strings.ToLower(l.GetValue()), room) {
						t.Errorf("%s has label %s=%q, which holds the room name %q", name, l.GetName(), l.GetValue(), room)
					}
				}
			}
		}
	}
}

func TestMetricsOnEveryRoleOfACluster(t *testing.T) {
	c := startCluster(t, "-mock-rate", "200")
	client := c.web1.dial(t)
	client.send(`{"type":"join","room":"golang"}`)
	client.nextWhere(inRoom("golang", "tweet"))

	ingest := c.ingest.waitMetrics(t, "tweets routed on the ingest node", func(f families) bool {
		v, _ := f.value("tweetstreamer_tweets_routed_total", "source", "mock")
		return v > 0
	})
	if got := ingest.must(t, "tweetstreamer_nats_connected"); got != 1 {
		t.Errorf("ingest node: nats_connected %v, want 1", got)
	}
	if got := ingest.must(t, "tweetstreamer_connections"); got != 0 {
		t.Errorf("ingest node: %v connections, it serves no /ws", got)
	}
	if _, ok := ingest.value("tweetstreamer_gap_fills_total", "outcome", "filled"); ok {
		t.Error("the ingest node reports gap fills, which only a web node makes")
	}

	// The join's backlog carries no latency: wait for a live tweet's frame.
	web := c.web1.waitMetrics(t, "a live tweet written by the web node", func(f families) bool {
		v, _ := f.value("tweetstreamer_broadcast_latency_seconds")
		return v > 0
	})
	if got := web.must(t, "tweetstreamer_nats_connected"); got != 1 {
		t.Errorf("web node: nats_connected %v, want 1", got)
	}
	if got := web.must(t, "tweetstreamer_connections"); got != 1 {
		t.Errorf("web node: %v connections, want 1", got)
	}
	if got := web.must(t, "tweetstreamer_gap_fills_total", "outcome", "skipped"); got != 0 {
		t.Errorf("web node: %v fills that skipped, with nothing lost", got)
	}
	if _, ok := web.value("tweetstreamer_tweets_received_total", "source", "mock"); ok {
		t.Error("the web node reports received tweets, though it runs no source")
	}
	if got := web.must(t, "tweetstreamer_deliveries_total"); got == 0 {
		t.Error("web node: no deliveries counted for the live tweets it wrote")
	}
}

// TestMetricsPassPromtool has Prometheus's own checker read /metrics of
// every role: a name, a type or a help text it objects to fails.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (Debian's prometheus package has it)")
		}
		t.Skip("promtool is not installed (apt-get install prometheus); skipping the check of /metrics")
	}
	single := start(t, nil, "-mock-rate", "200")
	c := single.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	c.nextWhere(inRoom("golang", "tweet"))
	cluster := startCluster(t)
	for _, node := range []struct {
		name string
		s    *server
	}{{"single process", single}, {"ingest node", cluster.ingest}, {"web node", cluster.web1}} {
		t.Run(node.name, func(t *testing.T) {
			_, body := node.s.get(t, "/metrics")
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err != nil || out.Len() > 0 {
				t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
			}
		})
	}
}
