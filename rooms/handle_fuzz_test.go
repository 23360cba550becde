package rooms

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// protocolCodes are the codes an `error` message may carry: the
// protocol's list (docs/PROTOCOL.md) and its extensions in message.go.
var protocolCodes = []string{
	CodeBadRequest, CodeBadRoom, CodeTooManyRooms, CodeTooManyTrends,
	CodeRateLimited, CodeNotJoined, CodeUnavailable,
}

// hubState is what a client message can change on the hub: who is in
// which room, and the trend set.
type hubState struct {
	rooms  []Summary
	trends []string
}

func (s *testServer) state() hubState {
	summaries := s.hub.Summaries()
	for i := range summaries {
		summaries[i].PerMinute = 0 // moves with time, not with messages
	}
	return hubState{rooms: summaries, trends: slices.Clone(s.trends.List())}
}

func (a hubState) equal(b hubState) bool {
	return slices.Equal(a.rooms, b.rooms) && slices.Equal(a.trends, b.trends)
}

// waitNoClients waits until the hub has forgotten every connection, so
// that one input's connection does not leave its rooms during the next.
func (s *testServer) waitNoClients(t *testing.T) {
	t.Helper()
	eventually(t, "the hub forgets the connections of earlier inputs", func() bool {
		s.hub.mu.RLock()
		defer s.hub.mu.RUnlock()
		return len(s.hub.clients) == 0
	})
}

// endRoom is the room of the message sent after each input: the reply to
// it (left, or not_joined) marks the end of the input's replies.
const endRoom = "fuzz end"

// FuzzClientMessage sends any text as one client message, from a client
// already in "golang", and checks what the protocol promises: the server
// does not fail; it accepts the message or refuses it with an `error`
// whose code is one of the protocol's, and the connection stays open; and
// a refused message changes no room and no trend. A text message over
// the read limit closes the connection with 1009 instead, and one that is
// not UTF-8 with 1007; neither changes a trend.
func FuzzClientMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","room":"golang"}`,
		`{"type":"join","room":"rust","epoch":"k3x9","since":41}`,
		`{"type":"join","room":"GoLang","paused":true}`,
		`{"type":"join","room":"  Climate   Change "}`,
		`{"type":"leave","room":"golang"}`,
		`{"type":"leave","room":"rust"}`,
		`{"type":"pause","room":"golang"}`,
		`{"type":"resume","room":"golang"}`,
		`{"type":"resume","room":"golang","mode":"live"}`,
		`{"type":"resume","room":"golang","mode":"later"}`,
		`{"type":"join","room":"golang","since":-1}`,
		`{"type":"join","room":"golang","since":1e400}`,
		`{"type":"join","room":7}`,
		`{"type":"join","room":null}`,
		`{"type":"join","room":"\u200bgolang"}`,
		`{"type":"join","room":"!!!"}`,
		`{"type":"join"}`,
		`{"type":"subscribe","room":"golang"}`,
		`{"room":"golang"}`,
		`{"type":["join"],"room":"golang"}`,
		`[{"type":"join","room":"golang"}]`,
		`{"type":"join","room":"golang"`,
		`null`,
		``,
		"{\"type\":\"join\",\"room\":\"\xff\"}",
		`{"type":"join","room":"golang","pad":"` + strings.Repeat("x", maxMessageSize) + `"}`,
	} {
		f.Add(seed)
	}
	s := newTestServer(f, Config{MessageRate: 1e6, StatsInterval: time.Hour, FlushInterval: -1})
	f.Fuzz(func(t *testing.T, message string) {
		s.waitNoClients(t)
		c := s.dial(t)
		c.join("golang")
		before := s.state()
		c.send(message)
		if closing, want := len(message) > maxMessageSize, websocket.CloseMessageTooBig; closing || !utf8.ValidString(message) {
			if !closing {
				want = websocket.CloseInvalidFramePayloadData
			}
			if err := c.closeError(); !websocket.IsCloseError(err, want) {
				t.Fatalf("a message of %d bytes, UTF-8 %v, ended the connection with %v, want %d", len(message), utf8.ValidString(message), err, want)
			}
			// The close takes the client out of golang, which is all
			// it may change.
			s.waitNoClients(t)
			if after := s.state(); !slices.Equal(after.trends, before.trends) {
				t.Fatalf("a message the server closed on changed the trends from %q to %q", before.trends, after.trends)
			}
			return
		}
		c.send(map[string]any{"type": "leave", "room": endRoom})
		var replies []msg
		for {
			m := c.next()
			if m.Room == endRoom && (m.Type == "left" || m.Type == "error") {
				break
			}
			replies = append(replies, m)
		}
		after := s.state()
		refused := false
		for _, m := range replies {
			switch m.Type {
			case "joined", "left", "skipped", "tweet":
			case "error":
				refused = true
				if !slices.Contains(protocolCodes, m.Code) {
					t.Errorf("%q was refused with code %q, not one of the protocol's %q", message, m.Code, protocolCodes)
				}
				if m.Message == "" {
					t.Errorf("%q was refused with code %q and no message", message, m.Code)
				}
			default:
				t.Errorf("%q was answered with %v, which no client message asks for", message, m)
			}
		}
		if refused && len(replies) != 1 {
			t.Errorf("%q was refused, and answered with %v besides", message, replies)
		}
		if refused && !before.equal(after) {
			t.Errorf("%q was refused, yet changed the hub from %+v to %+v", message, before, after)
		}
	})
}
