package rooms

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// keysOf lists the keys of a JSON object in the order they come.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not an object", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestEachVariantCarriesWhatItsReaderReads(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	tests := []struct {
		query string
		keys  []string
	}{
		{"", []string{"type", "room", "seq", "matched", "tweet", "html"}},
		{"tweet=full", []string{"type", "room", "seq", "matched", "tweet", "html"}},
		{"tweet=card", []string{"type", "room", "seq", "html"}},
		{"tweet=data", []string{"type", "room", "seq", "matched", "tweet"}},
		{"tweet=seq", []string{"type", "room", "seq", "ingested_at"}},
	}
	clients := make([]*testClient, len(tests))
	for i, tt := range tests {
		clients[i] = s.dialBy(t, s.dialer, tt.query, nil)
		clients[i].join("golang")
	}
	tw := s.tweet("golang is fun")
	tw.IngestedAt = time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	s.hub.Publish(tw, []string{"golang"})
	full := clients[0].expect("tweet", "golang")
	for i, tt := range tests {
		t.Run("?"+tt.query, func(t *testing.T) {
			m := full
			if i > 0 {
				m = clients[i].expect("tweet", "golang")
			}
			if got := keysOf(t, m.raw); !slices.Equal(got, tt.keys) {
				t.Errorf("keys %v, want %v", got, tt.keys)
			}
			if m.Seq != full.Seq {
				t.Errorf("seq %d, want %d", m.Seq, full.Seq)
			}
			if slices.Contains(tt.keys, "html") && m.HTML != full.HTML {
				t.Errorf("html %q, want the full message's %q", m.HTML, full.HTML)
			}
			if slices.Contains(tt.keys, "tweet") && (m.Tweet == nil || m.Tweet.ID != tw.ID || !slices.Equal(m.Matched, []string{"golang"})) {
				t.Errorf("tweet %+v matched %v, want %s in golang", m.Tweet, m.Matched, tw.ID)
			}
			if slices.Contains(tt.keys, "ingested_at") && m.IngestedAt != "2026-12-03T10:00:00.123456789Z" {
				t.Errorf("ingested_at %q, want the tweet's", m.IngestedAt)
			}
		})
	}
}

func TestABacklogComesInTheVariantOfTheConnection(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	for range 3 {
		s.publish("golang")
	}
	c := s.dialBy(t, s.dialer, "tweet=card", nil)
	_, seqs := c.join("golang")
	if !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("backlog %v, want 1..3", seqs)
	}
	s.publish("golang")
	if m := c.expect("tweet", "golang"); m.Tweet != nil || m.HTML == "" {
		t.Errorf("got %s, want a card alone", m.raw)
	}
}

func TestAnUnknownVariantIsRefusedBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	_, resp, err := s.dialer.Dial(s.wsURL+"?tweet=everything", nil)
	if err == nil {
		t.Fatal("the upgrade succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("response %v, want 400", resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"tweet" must be one of full, card, data or seq`) {
		t.Errorf("body %q does not say what the parameter takes", body)
	}
}

func TestACardIsRenderedOnlyWhenAMemberReadsIt(t *testing.T) {
	t.Parallel()
	var renders atomic.Int64
	s := newTestServer(t, Config{Render: func(tw stream.Tweet, _ []string) (string, error) {
		renders.Add(1)
		return "<article>" + tw.ID + "</article>", nil
	}})
	lean := s.dialBy(t, s.dialer, "tweet=seq", nil)
	lean.join("golang")
	lean.join("rust")
	s.publish("golang", "rust")
	lean.expect("tweet", "golang")
	lean.expect("tweet", "rust")
	if n := renders.Load(); n != 0 {
		t.Fatalf("%d cards rendered for members that read none", n)
	}
	// Members reading the card in both rooms, plain and compressed: their
	// joins' backlogs render the first tweet, once for all four, and the
	// next tweet is rendered once.
	compressing := &websocket.Dialer{EnableCompression: true}
	for _, d := range []*websocket.Dialer{s.dialer, compressing} {
		c := s.dialBy(t, d, "tweet=card", nil)
		c.join("golang")
		c.join("rust")
	}
	s.publish("golang", "rust")
	lean.expect("tweet", "golang")
	lean.expect("tweet", "rust")
	if n := renders.Load(); n != 2 {
		t.Errorf("%d renders of two tweets each read in two rooms, want 2", n)
	}
}
