package jetstreamtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

const timeout = 5 * time.Second

// dial subscribes to js with query, and waits until the server has
// accepted the subscription as its n-th.
func dial(t *testing.T, js *jetstreamtest.Server, query string, n int) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, js.URL()+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if _, err := js.WaitSubscriptions(ctx, n); err != nil {
		t.Fatal(err)
	}
	return ws
}

// readTimes reads n messages and returns their time_us, or -1 for a
// message without one.
func readTimes(t *testing.T, ws *websocket.Conn, n int) []int64 {
	t.Helper()
	if err := ws.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	var times []int64
	for range n {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %v: %v", times, err)
		}
		var v struct {
			TimeUS *int64 `json:"time_us"`
		}
		if json.Unmarshal(msg, &v) != nil || v.TimeUS == nil {
			times = append(times, -1)
			continue
		}
		times = append(times, *v.TimeUS)
	}
	return times
}

func TestServerSendsLiveEventsAndReplaysFromACursor(t *testing.T) {
	js := jetstreamtest.NewServer()
	defer js.Close()

	live := dial(t, js, "?wantedCollections=app.bsky.feed.post", 1)
	js.Publish(
		jetstreamtest.DeleteEvent(10, "did:plc:a", "1"),
		[]byte("not JSON"),
		jetstreamtest.DeleteEvent(20, "did:plc:a", "2"),
		jetstreamtest.DeleteEvent(30, "did:plc:a", "3"),
	)
	if got, want := readTimes(t, live, 4), []int64{10, -1, 20, 30}; !slices.Equal(got, want) {
		t.Errorf("a live subscription got %v, want %v", got, want)
	}

	// A cursor replays the kept events stamped at or after it, without the
	// malformed one, then carries on live.
	resumed := dial(t, js, "?cursor=20", 2)
	js.Publish(jetstreamtest.DeleteEvent(40, "did:plc:a", "4"))
	if got, want := readTimes(t, resumed, 3), []int64{20, 30, 40}; !slices.Equal(got, want) {
		t.Errorf("a subscription from cursor 20 got %v, want %v", got, want)
	}

	subs := js.Subscriptions()
	if len(subs) != 2 {
		t.Fatalf("%d subscriptions, want 2", len(subs))
	}
	if c, ok := subs[0].Cursor(); ok {
		t.Errorf("the first subscription has cursor %d, want none", c)
	}
	if c, ok := subs[1].Cursor(); !ok || c != 20 {
		t.Errorf("the second subscription has cursor %d, %v; want 20", c, ok)
	}
	if got := subs[0].Query.Get("wantedCollections"); got != jetstreamtest.PostCollection {
		t.Errorf("wantedCollections = %q", got)
	}
}

func TestServerDisconnectCutsConnections(t *testing.T) {
	js := jetstreamtest.NewServer()
	defer js.Close()
	ws := dial(t, js, "", 1)
	if n := js.Disconnect(); n != 1 {
		t.Errorf("Disconnect cut %d connections, want 1", n)
	}
	if err := ws.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("read a message from a cut connection")
	} else if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
		t.Errorf("the connection was closed politely (%v), not cut", err)
	}
}

func TestServerRefusesSubscriptionsWhenAsked(t *testing.T) {
	js := jetstreamtest.NewServer()
	defer js.Close()
	js.Refuse(http.StatusNotFound)
	_, resp, err := websocket.DefaultDialer.Dial(js.URL(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial = %v, %v; want a 404 refusal", resp, err)
	}
	js.Refuse(0)
	dial(t, js, "", 1)
}

func TestProfileServerAnswersLikeBluesky(t *testing.T) {
	ps := jetstreamtest.NewProfileServer()
	defer ps.Close()
	ps.Set("did:plc:alice", jetstreamtest.Profile{Handle: "alice.test", DisplayName: "Alice"})

	get := func(actor string) (int, map[string]string) {
		t.Helper()
		resp, err := http.Get(ps.URL() + "?actor=" + actor)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	if status, body := get("did:plc:alice"); status != http.StatusOK || body["handle"] != "alice.test" || body["displayName"] != "Alice" {
		t.Errorf("a known actor: %d %v", status, body)
	}
	if status, body := get("did:plc:nobody"); status != http.StatusBadRequest || body["error"] != "InvalidRequest" {
		t.Errorf("an unknown actor: %d %v", status, body)
	}
	ps.Fail(http.StatusBadGateway)
	if status, _ := get("did:plc:alice"); status != http.StatusBadGateway {
		t.Errorf("a failing endpoint answered %d", status)
	}
	if got, want := ps.Lookups(), []string{"did:plc:alice", "did:plc:nobody", "did:plc:alice"}; !slices.Equal(got, want) {
		t.Errorf("Lookups() = %v, want %v", got, want)
	}
}
