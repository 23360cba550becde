package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestJoinReceiveLeave(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)

	j, backlog := c.join("GoLang ")
	if j.Room != "golang" || j.Seq != 0 || j.Members != 1 || j.Epoch == "" || j.Recovered != nil {
		t.Fatalf("joined = %+v, want room golang, seq 0, 1 member, an epoch, no recovered", j)
	}
	if len(backlog) != 0 {
		t.Fatalf("backlog %v from an empty room", backlog)
	}

	id := s.publish("golang")
	s.publish("rust") // not joined: must not arrive
	m := c.expect("tweet", "golang")
	if m.Seq != 1 || m.Tweet == nil || m.Tweet.ID != id || m.HTML != "<article>"+id+"</article>" || len(m.Matched) != 1 {
		t.Fatalf("tweet = %+v", m)
	}

	c.send(`{"type":"leave","room":"golang"}`)
	c.expect("left", "golang")
	s.publish("golang")
	c.expectNothing()
}

func TestQueuedMessagesAreCoalescedIntoOneFrame(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{FlushInterval: 200 * time.Millisecond})
	c := s.dial(t)
	c.join("golang")
	before := c.frames.Load()
	for range 5 {
		s.publish("golang")
	}
	for want := uint64(1); want <= 5; want++ {
		if m := c.expect("tweet", "golang"); m.Seq != want {
			t.Fatalf("seq %d, want %d", m.Seq, want)
		}
	}
	if frames := c.frames.Load() - before; frames != 1 {
		t.Fatalf("5 tweets published at once came in %d frames, want 1", frames)
	}
}

func TestTweetMatchingSeveralTrendsGoesToEachRoom(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	c.join("rust")
	s.publish("golang", "rust")
	got := map[string]msg{}
	for range 2 {
		m := c.next()
		got[m.Room] = m
	}
	for _, room := range []string{"golang", "rust"} {
		m := got[room]
		if m.Type != "tweet" || m.Seq != 1 || strings.Join(m.Matched, ",") != "golang,rust" {
			t.Errorf("room %s got %+v, want its seq 1 with matched [golang rust]", room, m)
		}
	}
}

func TestJoinSendsBacklogOldestFirst(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{History: 3})
	for range 5 {
		s.publish("golang")
	}
	c := s.dial(t)
	j, backlog := c.join("golang")
	if j.Seq != 5 {
		t.Fatalf("joined seq = %d, want 5", j.Seq)
	}
	if want := []uint64{3, 4, 5}; !equal(backlog, want) {
		t.Fatalf("backlog = %v, want %v (the last 3, oldest first)", backlog, want)
	}
}

func TestJoinAndLeaveAreIdempotent(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	j, _ := c.join("golang")
	if j.Members != 1 {
		t.Fatalf("second join: members = %d, want still 1", j.Members)
	}
	s.publish("golang")
	c.expect("tweet", "golang")
	c.expectNothing() // once, not twice

	c.send(`{"type":"leave","room":"golang"}`)
	c.expect("left", "golang")
	c.send(`{"type":"leave","room":"golang"}`)
	if m := c.expect("error", "golang"); m.Code != CodeNotJoined {
		t.Fatalf("second leave: code %q, want not_joined", m.Code)
	}
}

func TestRepeatedJoinWithSinceRecoversWithoutLeaving(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	j, _ := c.join("golang")
	s.publish("golang")
	s.publish("golang")
	c.expect("tweet", "golang")
	c.expect("tweet", "golang")
	c.send(map[string]any{"type": "join", "room": "golang", "epoch": j.Epoch, "since": 1})
	again, backlog := c.expectJoined()
	if again.Recovered == nil || !*again.Recovered || again.Members != 1 {
		t.Fatalf("joined = %+v, want recovered with still 1 member", again)
	}
	if !equal(backlog, []uint64{2}) {
		t.Fatalf("backlog = %v, want [2]", backlog)
	}
}

func TestRecovery(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{History: 5})
	c := s.dial(t)
	j, _ := c.join("golang")
	epoch := j.Epoch
	for range 8 {
		s.publish("golang")
	}
	tests := []struct {
		name      string
		epoch     string
		since     uint64
		recovered bool
		backlog   []uint64
	}{
		{"since within history replays exactly what followed", epoch, 5, true, []uint64{6, 7, 8}},
		{"since at the latest seq replays nothing", epoch, 8, true, nil},
		{"since just before the oldest kept replays all of history", epoch, 3, true, []uint64{4, 5, 6, 7, 8}},
		{"since older than history cannot recover", epoch, 2, false, []uint64{4, 5, 6, 7, 8}},
		{"another epoch cannot recover", "old-epoch", 5, false, []uint64{4, 5, 6, 7, 8}},
		{"since ahead of the room cannot recover", epoch, 99, false, []uint64{4, 5, 6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(map[string]any{"type": "join", "room": "golang", "epoch": tt.epoch, "since": tt.since})
			j, backlog := c.expectJoined()
			if j.Recovered == nil || *j.Recovered != tt.recovered {
				t.Errorf("recovered = %v, want %v", j.Recovered, tt.recovered)
			}
			if !equal(backlog, tt.backlog) {
				t.Errorf("backlog = %v, want %v", backlog, tt.backlog)
			}
		})
	}
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	t.Run("replay sends what was held back, and skipped for what history lost", func(t *testing.T) {
		s := newTestServer(t, Config{History: 3})
		c := s.dial(t)
		c.join("golang")
		s.publish("golang")
		c.expect("tweet", "golang")
		c.send(`{"type":"pause","room":"golang"}`)
		c.handled() // the pause is in place before the publishing
		for range 5 {
			s.publish("golang") // seqs 2..6; history keeps 4..6
		}
		c.expectNothing()
		c.send(`{"type":"resume","room":"golang"}`)
		sk := c.expect("skipped", "golang")
		if sk.FromSeq != 2 || sk.ToSeq != 3 || sk.Count != 2 {
			t.Fatalf("skipped = %+v, want 2-3 (2)", sk)
		}
		for want := uint64(4); want <= 6; want++ {
			if m := c.expect("tweet", "golang"); m.Seq != want {
				t.Fatalf("replayed seq %d, want %d", m.Seq, want)
			}
		}
		s.publish("golang")
		if m := c.expect("tweet", "golang"); m.Seq != 7 {
			t.Fatalf("live seq %d after resume, want 7", m.Seq)
		}
	})
	t.Run("live skips what was held back", func(t *testing.T) {
		s := newTestServer(t, Config{})
		c := s.dial(t)
		c.join("golang")
		c.send(`{"type":"pause","room":"golang"}`)
		c.handled()
		s.publish("golang")
		s.publish("golang")
		c.send(`{"type":"resume","room":"golang","mode":"live"}`)
		sk := c.expect("skipped", "golang")
		if sk.FromSeq != 1 || sk.ToSeq != 2 || sk.Count != 2 {
			t.Fatalf("skipped = %+v, want 1-2 (2)", sk)
		}
		s.publish("golang")
		if m := c.expect("tweet", "golang"); m.Seq != 3 {
			t.Fatalf("seq %d, want 3", m.Seq)
		}
	})
}

func TestPausedMemberIsToldHowManyTweetsAreHeld(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{StatsInterval: time.Hour})
	paused, live := s.dial(t), s.dial(t)
	paused.join("golang")
	live.join("golang")
	paused.skipNoise, live.skipNoise = false, false
	// next returns c's next message of type typ, past any trend list.
	next := func(c *testClient, typ string) msg {
		t.Helper()
		m := c.next()
		for m.Type == "trends" {
			m = c.next()
		}
		if m.Type != typ || m.Room != "golang" {
			t.Fatalf("got %v, want %s golang", m, typ)
		}
		return m
	}
	nextStats := func(c *testClient) msg { t.Helper(); return next(c, "stats") }
	paused.send(`{"type":"pause","room":"golang"}`)
	// Messages are handled in order: once a repeated join is answered, the
	// pause has landed.
	paused.send(`{"type":"join","room":"golang"}`)
	paused.expect("joined", "golang")
	s.publish("golang")
	s.publish("golang")
	live.expect("tweet", "golang")
	live.expect("tweet", "golang")
	s.hub.tick(time.Now())
	st := nextStats(paused)
	if st.Held == nil || *st.Held != 2 {
		t.Fatalf("paused member's stats = %+v, want held 2", st)
	}
	if st := nextStats(live); st.Held != nil {
		t.Fatalf("a member that is not paused got held %d", *st.Held)
	}

	s.publish("golang")
	next(live, "tweet")
	s.hub.tick(time.Now())
	if st := nextStats(paused); st.Held == nil || *st.Held != 3 {
		t.Fatalf("after one more tweet, stats = %+v, want held 3", st)
	}
	nextStats(live)        // the rate changed
	s.hub.tick(time.Now()) // held did not grow: nothing new to say

	paused.send(`{"type":"resume","room":"golang"}`)
	for want := uint64(1); want <= 3; want++ {
		// A stats message here would mean the last tick spoke of an
		// unchanged count.
		if m := next(paused, "tweet"); m.Seq != want {
			t.Fatalf("replayed seq %d after resuming, want %d", m.Seq, want)
		}
	}
	s.publish("golang")
	next(paused, "tweet")
	s.hub.tick(time.Now())
	if st := nextStats(paused); st.Held != nil {
		t.Fatalf("after resuming, stats still carry held %d", *st.Held)
	}
}

func TestHeldCountsOnlyWhatAResumeWillSend(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{StatsInterval: time.Hour})
	c := s.dial(t)
	c.join("golang")
	c.send(`{"type":"pause","room":"golang"}`)
	c.send(`{"type":"join","room":"golang"}`) // a barrier: the pause has landed
	c.expect("joined", "golang")
	s.publish("golang")
	gone := s.publish("golang")
	s.publish("golang")
	s.hub.Retract("test", gone)
	c.skipNoise = false
	s.hub.tick(time.Now())
	m := c.next()
	for m.Type != "stats" {
		m = c.next()
	}
	if m.Held == nil || *m.Held != 2 {
		t.Fatalf("stats = %+v, want held 2: three published, one withdrawn", m)
	}
	c.skipNoise = true
	c.send(`{"type":"resume","room":"golang"}`)
	for _, want := range []uint64{1, 3} {
		if got := c.expect("tweet", "golang"); got.Seq != want {
			t.Fatalf("resume sent seq %d, want %d", got.Seq, want)
		}
	}
}

func TestANewConnectionGetsTheTrendListAsItIsNow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{StatsInterval: time.Hour, RenderTrends: func(l []Summary) (string, error) { return "x", nil }})
	a := s.dial(t)
	a.join("golang")
	s.hub.tick(time.Now()) // the list is rendered and kept
	a.join("elixir")       // a custom trend, between two ticks
	want, _ := json.Marshal(s.hub.Summaries())
	b := s.dial(t)
	b.skipNoise = false
	first := b.next()
	if first.Type != "trends" || string(first.Trends) != string(want) {
		t.Errorf("a new connection got %s, want the list as it is: %s", first.Trends, want)
	}
}

func TestNewConnectionsShareOneTrendListWhileOnlyCountsChange(t *testing.T) {
	t.Parallel()
	var renders atomic.Int64
	s := newTestServer(t, Config{StatsInterval: time.Hour, RenderTrends: func(l []Summary) (string, error) {
		renders.Add(1)
		return "x", nil
	}})
	s.hub.tick(time.Now())
	before := renders.Load()
	for range 20 {
		c := s.dial(t)
		c.join("golang") // each connection changes a count, not the trends
	}
	if n := renders.Load() - before; n != 0 {
		t.Errorf("20 connections that only changed member counts rendered the list %d times, want none: the next tick sends the counts", n)
	}
}

func TestOpeningARoomFollowsItsTrend(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{IdleTrendTTL: time.Minute})
	snap, err := s.hub.Open("elixir", "")
	if err != nil || snap.Room != "elixir" || snap.Epoch == "" {
		t.Fatalf("Open(elixir) = %+v, %v; want a new room", snap, err)
	}
	if !s.hub.Has("elixir") || !slices.Contains(s.trends.List(), "elixir") {
		t.Fatal("after Open, elixir is neither a room nor a trend")
	}
	// A page that shows the room counts as someone watching it.
	start := time.Now()
	if _, err := s.hub.Open("elixir", ""); err != nil {
		t.Fatal(err)
	}
	s.hub.sweepIdle(start.Add(59 * time.Second))
	if !s.hub.Has("elixir") {
		t.Fatal("a room shown by a page under a minute ago was dropped")
	}
	s.hub.sweepIdle(start.Add(2 * time.Minute))
	if s.hub.Has("elixir") {
		t.Fatal("a room no page or member has shown for two minutes was kept")
	}
	if s.hub.Has("nosuchroom") {
		t.Error("Has reports a room that was never made")
	}
}

func TestOpeningRoomsStopsAtTheTrendLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{}) // golang and rust, in a set of 10
	for i := range 8 {
		if _, err := s.hub.Open(fmt.Sprintf("t%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.hub.Open("one-too-many", ""); !errors.Is(err, stream.ErrTooManyTrends) {
		t.Errorf("Open past the limit: %v, want ErrTooManyTrends", err)
	}
}

func TestAPausedJoinHoldsTheBacklog(t *testing.T) {
	t.Parallel()
	t.Run("a recovery from since holds what came after it", func(t *testing.T) {
		s := newTestServer(t, Config{})
		c := s.dial(t)
		j, _ := c.join("golang")
		for range 5 {
			s.publish("golang") // seqs 1..5
		}
		for range 5 {
			c.expect("tweet", "golang")
		}
		d := s.dial(t)
		d.send(fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":2,"paused":true}`, j.Epoch))
		m := d.expect("joined", "golang")
		if m.Recovered == nil || !*m.Recovered || m.Held == nil || *m.Held != 3 {
			t.Fatalf("joined = %+v, want recovered with 3 held", m)
		}
		s.publish("golang")
		c.expect("tweet", "golang")
		d.send(`{"type":"join","room":"golang"}`) // a barrier: nothing came before it
		d.expect("joined", "golang")
		d.send(`{"type":"resume","room":"golang"}`)
		for want := uint64(3); want <= 6; want++ {
			if m := d.expect("tweet", "golang"); m.Seq != want {
				t.Fatalf("after resuming, seq %d, want %d", m.Seq, want)
			}
		}
	})
	t.Run("a fresh paused join holds the recent history", func(t *testing.T) {
		s := newTestServer(t, Config{History: 3})
		for range 5 {
			s.publish("golang") // history keeps 3..5
		}
		c := s.dial(t)
		c.send(`{"type":"join","room":"golang","paused":true}`)
		if m := c.expect("joined", "golang"); m.Held == nil || *m.Held != 3 {
			t.Fatalf("joined = %+v, want 3 held", m)
		}
		c.send(`{"type":"resume","room":"golang"}`)
		for want := uint64(3); want <= 5; want++ {
			if m := c.expect("tweet", "golang"); m.Seq != want {
				t.Fatalf("after resuming, seq %d, want %d", m.Seq, want)
			}
		}
	})
}

func TestTrendsMessagesCarryTheRenderedList(t *testing.T) {
	t.Parallel()
	var renders atomic.Int64
	s := newTestServer(t, Config{StatsInterval: time.Hour, RenderTrends: func(list []Summary) (string, error) {
		renders.Add(1)
		var b strings.Builder
		for _, it := range list {
			fmt.Fprintf(&b, "<li>%s %d</li>", it.Room, it.Members)
		}
		return b.String(), nil
	}})
	a := s.dial(t)
	a.skipNoise = false
	if first := a.next(); first.Type != "trends" || first.HTML != "<li>golang 0</li><li>rust 0</li>" {
		t.Fatalf("first message %v with html %q, want the rendered list", first, first.HTML)
	}
	a.join("golang")
	b := s.dial(t)
	b.skipNoise = false
	b.next() // the list on connect
	before := renders.Load()
	s.hub.tick(time.Now())
	for _, c := range []*testClient{a, b} {
		var m msg
		for m = c.next(); m.Type != "trends"; m = c.next() {
		}
		if m.HTML != "<li>golang 1</li><li>rust 0</li>" {
			t.Fatalf("trends html %q, want golang with its member", m.HTML)
		}
	}
	if n := renders.Load() - before; n != 1 {
		t.Fatalf("the list was rendered %d times for one change and two connections, want once", n)
	}
	c := s.dial(t)
	c.skipNoise = false
	if m := c.next(); m.HTML != "<li>golang 1</li><li>rust 0</li>" {
		t.Fatalf("a later connection got html %q, want the last list sent", m.HTML)
	}
}

func TestRetractRemovesFromHistoryAndTellsMembers(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	keep := s.publish("golang")
	gone := s.publish("golang")
	c.expect("tweet", "golang")
	c.expect("tweet", "golang")
	s.hub.Retract("test", gone)
	if m := c.expect("retract", "golang"); m.ID != gone || m.Seq != 2 {
		t.Fatalf("retract = %+v, want id %s seq 2", m, gone)
	}
	snap, _ := s.hub.Snapshot("golang")
	if len(snap.Tweets) != 1 || snap.Tweets[0].Tweet.ID != keep {
		t.Fatalf("history after retract = %v, want only %s", snap.Tweets, keep)
	}
	_, backlog := s.dial(t).join("golang")
	if !equal(backlog, []uint64{1}) {
		t.Fatalf("backlog after retract = %v, want [1]", backlog)
	}
}

func TestBadInputGetsAnErrorAndTheConnectionKeepsWorking(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{MaxRoomsPerConn: 2})
	tests := []struct {
		name string
		send string
		code string
		room string
	}{
		{"not JSON", `hello`, CodeBadRequest, ""},
		{"JSON but not an object", `[1,2]`, CodeBadRequest, ""},
		{"no type", `{"room":"golang"}`, CodeBadRequest, ""},
		{"unknown type", `{"type":"subscribe","room":"golang"}`, CodeBadRequest, ""},
		{"missing room", `{"type":"join"}`, CodeBadRoom, ""},
		{"empty room", `{"type":"join","room":"  "}`, CodeBadRoom, "  "},
		{"room over 60 characters", `{"type":"join","room":"` + strings.Repeat("a", 61) + `"}`, CodeBadRoom, strings.Repeat("a", 61)},
		{"room with a control character", `{"type":"join","room":"go\u0007lang"}`, CodeBadRoom, "go\alang"},
		{"room that is not a string", `{"type":"join","room":42}`, CodeBadRequest, ""},
		{"leave a room not joined", `{"type":"leave","room":"rust"}`, CodeNotJoined, "rust"},
		{"pause a room not joined", `{"type":"pause","room":"rust"}`, CodeNotJoined, "rust"},
		{"resume with an unknown mode", `{"type":"resume","room":"golang","mode":"fast"}`, CodeBadRequest, "golang"},
	}
	c := s.dial(t)
	c.join("golang")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.send(tt.send)
			m := c.next()
			if m.Type != "error" || m.Code != tt.code || m.Room != tt.room || m.Message == "" {
				t.Fatalf("got %+v, want error %s for room %q with a message", m, tt.code, tt.room)
			}
		})
	}
	t.Run("the connection still works after them", func(t *testing.T) {
		s.publish("golang")
		c.expect("tweet", "golang")
	})
	t.Run("more rooms than allowed", func(t *testing.T) {
		c.join("rust")
		c.send(`{"type":"join","room":"zig"}`)
		if m := c.expect("error", "zig"); m.Code != CodeTooManyRooms {
			t.Fatalf("code %q, want too_many_rooms", m.Code)
		}
	})
}

func TestCustomTrends(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{IdleTrendTTL: time.Minute}, "golang")
	c := s.dial(t)
	j, _ := c.join("Zig")
	if j.Room != "zig" {
		t.Fatalf("joined %q, want zig", j.Room)
	}
	if got := s.trends.List(); strings.Join(got, ",") != "golang,zig" {
		t.Fatalf("trends = %v, want the custom trend added", got)
	}
	s.publish("zig")
	c.expect("tweet", "zig")

	t.Run("past -max-trends a join is refused", func(t *testing.T) {
		var others []*testClient
		for i := range 8 {
			c2 := s.dial(t)
			c2.join(string(rune('a' + i)))
			others = append(others, c2)
		}
		c.send(`{"type":"join","room":"one too many"}`)
		if m := c.expect("error", "one too many"); m.Code != CodeTooManyTrends {
			t.Fatalf("code %q, want too_many_trends", m.Code)
		}
		for _, c2 := range others {
			c2.conn.Close()
		}
	})
	t.Run("an idle custom trend is dropped; a watched one stays", func(t *testing.T) {
		eventually(t, "the idle rooms are dropped", func() bool {
			s.hub.sweepIdle(time.Now().Add(2 * time.Minute))
			return strings.Join(s.trends.List(), ",") == "golang,zig"
		})
	})
	t.Run("a configured trend is never dropped", func(t *testing.T) {
		c.send(`{"type":"leave","room":"zig"}`)
		c.expect("left", "zig")
		s.hub.sweepIdle(time.Now().Add(2 * time.Minute))
		if got := strings.Join(s.trends.List(), ","); got != "golang" {
			t.Fatalf("trends = %s, want golang", got)
		}
		j, _ := c.join("zig") // joining again re-creates it, with a new epoch
		if j.Epoch == "" || j.Seq != 0 {
			t.Fatalf("rejoined %+v, want a fresh room", j)
		}
	})
}

func TestStatsAndTrendsMessages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{StatsInterval: time.Hour})
	c := s.dial(t)
	c.skipNoise = false
	first := c.next()
	if first.Type != "trends" || !strings.Contains(string(first.Trends), `{"room":"golang","members":0,"per_minute":0,"custom":false}`) {
		t.Fatalf("first message %v %s, want the trend list on connect", first, first.Trends)
	}
	c.join("golang")
	s.publish("golang")
	c.expect("tweet", "golang")
	s.hub.tick(time.Now())
	st := c.expect("stats", "golang")
	if st.Members != 1 || st.PerMinute == nil || *st.PerMinute != 1 {
		t.Fatalf("stats = %+v, want 1 member and 1 per minute", st)
	}
	tr := c.next()
	if tr.Type != "trends" || !strings.Contains(string(tr.Trends), `{"room":"golang","members":1,"per_minute":1,"custom":false}`) {
		t.Fatalf("got %v %s, want trends listing golang", tr, tr.Trends)
	}
	s.hub.tick(time.Now())
	c.expectNothing() // nothing changed, nothing sent
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{AllowedOrigins: []string{"https://allowed.example"}})
	tests := []struct {
		origin string
		want   int
	}{
		{"", http.StatusSwitchingProtocols},
		{s.url, http.StatusSwitchingProtocols},
		{"https://allowed.example", http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run("origin "+tt.origin, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			conn, resp, err := websocket.DefaultDialer.Dial(s.wsURL, h)
			if conn != nil {
				conn.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestOverLongFrameClosesWith1009(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.send(`{"type":"join","room":"` + strings.Repeat("a", maxMessageSize) + `"}`)
	err := c.closeError()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("connection ended with %v, want close 1009", err)
	}
}

// A text message must be UTF-8 (RFC 6455 §8.1): one that is not fails the
// connection with 1007, and nothing of it is taken, not even a room.
func TestATextMessageThatIsNotUTF8ClosesWith1007(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.send("{\"type\":\"join\",\"room\":\"gol\xffang\"}")
	err := c.closeError()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("connection ended with %v, want close 1007", err)
	}
	if s.hub.Has("gol\ufffdang") || slices.Contains(s.trends.List(), "gol\ufffdang") {
		t.Errorf("the bad message made a room or a trend: %v", s.trends.List())
	}
}

// A close frame must carry a code of two bytes or nothing: one of a single
// byte is answered with 1002, not with an empty close as if it had none.
func TestACloseFrameOfOneByteIsAProtocolError(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	if err := c.conn.WriteControl(websocket.CloseMessage, []byte{3}, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	err := c.closeError()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseProtocolError {
		t.Fatalf("connection ended with %v, want close 1002", err)
	}
}

func TestCloseSendsGoingAway(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	if err := s.hub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := c.closeError()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("connection ended with %v, want close 1001", err)
	}
}

// TestSlowClient checks the overflow policy end to end: a client that does
// not read gets `skipped` for what it missed, and every seq it sees is either
// delivered once, in order, or inside a skipped range, while a fast client in
// the same room gets everything in order.
func TestSlowClient(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{QueueBytes: 32 << 10, History: 10, FlushInterval: -1, WriteWait: time.Minute})
	slow := s.dial(t)
	slow.join("golang")
	fast := s.dial(t)
	fast.join("golang")

	// The slow client stops reading until the publishing is over, so that
	// its socket buffers fill and its queue overflows. The publisher waits
	// for the fast client, so that it alone never falls behind.
	slow.gate.Lock()
	// Far more than its queue (16 tweets) and the sockets between (some
	// 200) hold, yet published within its WriteWait of a minute even under the race
	// detector on a loaded machine: past it, the writer blocked on the
	// slow client gives the connection up.
	const n = 5_000
	var received atomic.Uint64
	// progress tells the publisher the fast client read another tweet;
	// fastDone, that it reads no more.
	progress := make(chan struct{}, 1)
	fastDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(fastDone)
		for want := uint64(1); want <= n; want++ {
			m := fast.next()
			if m.Type != "tweet" || m.Seq != want {
				t.Errorf("fast client got %v, want tweet seq %d", m, want)
				return
			}
			received.Store(want)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	})
	big := strings.Repeat("x", 2000)
	for i := range uint64(n) {
		s.hub.Publish(s.tweet(big), []string{"golang"})
	wait:
		for i >= received.Load()+8 {
			select {
			case <-progress:
			case <-fastDone:
				break wait
			}
		}
	}
	wg.Wait()
	slow.gate.Unlock()

	next, delivered, skipped := uint64(1), 0, uint64(0)
	for next <= n {
		m := slow.next()
		switch m.Type {
		case "tweet":
			if m.Seq != next {
				t.Fatalf("slow client: tweet seq %d, want %d", m.Seq, next)
			}
			delivered++
			next++
		case "skipped":
			if m.FromSeq != next || m.ToSeq < m.FromSeq || m.Count != m.ToSeq-m.FromSeq+1 {
				t.Fatalf("slow client: skipped %+v, want a range from %d", m, next)
			}
			skipped += m.Count
			next = m.ToSeq + 1
		default:
			t.Fatalf("slow client: unexpected %v", m)
		}
	}
	if skipped == 0 {
		t.Fatalf("slow client: nothing skipped out of %d; the test did not overflow its queue", n)
	}
	t.Logf("slow client: %d delivered, %d skipped", delivered, skipped)

	// The metrics count what the slow client was told, as it was told it.
	eventually(t, "the skipped tweets are counted", func() bool { return s.hub.Metrics().SkippedTweets == skipped })
	if m := s.hub.Metrics(); m.SlowWrites == 0 || m.Deliveries != 2*n {
		t.Errorf("metrics: %d slow writes, %d deliveries; want some, and %d", m.SlowWrites, m.Deliveries, 2*n)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRateLimitBurstIsTwiceTheRate checks the documented limit: a client may
// send bursts of twice MessageRate, and the next message is refused while the
// connection stays open.
func TestRateLimitBurstIsTwiceTheRate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{MessageRate: 1}) // bursts of 2; one more each second
	c := s.dial(t)
	for range 3 {
		c.send(`{"type":"pause","room":"golang"}`)
	}
	for i := range 3 {
		m := c.next()
		want := CodeNotJoined
		if i == 2 {
			want = CodeRateLimited
		}
		if m.Type != "error" || m.Code != want {
			t.Fatalf("message %d: got %+v, want error %s", i+1, m, want)
		}
	}
}

// TestCloseEndsAConnectionWhoseClientReadsNothing checks that Close does not
// leave a connection's goroutines behind when its deadline passes while a
// writer is stuck on a client that reads nothing.
func TestCloseEndsAConnectionWhoseClientReadsNothing(t *testing.T) {
	t.Parallel()
	// Writes go out at once, so that a writer that can write takes the
	// queue over and over while tweets are published.
	s := newTestServer(t, Config{QueueBytes: 32 << 10, FlushInterval: -1})
	c := s.dial(t)
	c.join("golang")
	c.gate.Lock()
	t.Cleanup(c.gate.Unlock)

	// Publish until the writer stops taking what is queued: it is then
	// stuck on a socket whose buffers are full. A queue over its limit
	// starts with the range of tweets it dropped; while no writer takes
	// it, that range stays at its head, from the same seq, round after
	// round of publishing.
	s.hub.mu.RLock()
	var sc *client
	for sc = range s.hub.clients {
	}
	s.hub.mu.RUnlock()
	headSkip := func() (from uint64, full bool) {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.q.len() == 0 {
			return 0, false
		}
		e := sc.q.entries[sc.q.head]
		return e.from, e.skip && sc.q.bytes > sc.q.limit/2
	}
	big := strings.Repeat("x", 2000)
	var last uint64
	for i, untaken := 0, 0; untaken < 2; i++ {
		if i == 200 {
			t.Fatal("the writer kept up with a client that reads nothing")
		}
		for range 1000 {
			s.hub.Publish(s.tweet(big), []string{"golang"})
		}
		from, full := headSkip()
		if full && from == last {
			untaken++
		} else {
			untaken = 0
		}
		last = from
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_ = s.hub.Close(ctx)
	waited := make(chan struct{})
	go func() {
		s.hub.conns.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
		t.Fatalf("connection goroutines still running %v after Close began (WriteWait is %v)", time.Since(began).Round(time.Millisecond), s.hub.cfg.WriteWait)
	}
}

// TestGoingAwayReachesAClientThatIsStillSending checks that the 1001 close
// frame is not lost when the client is sending as the server shuts down:
// closing a socket with data unread resets it, which can discard the close
// frame before the client reads it, so the server waits for the client's
// close first. The loss is a race, so the test tries it several times.
func TestGoingAwayReachesAClientThatIsStillSending(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		t.Run(fmt.Sprintf("try %d", i+1), func(t *testing.T) {
			t.Parallel()
			goingAwayWhileSending(t)
		})
	}
}

// goingAwayWhileSending is one try of the test above.
func goingAwayWhileSending(t *testing.T) {
	// A client sending this fast must be neither rate limited nor too slow.
	s := newTestServer(t, Config{MessageRate: 1e6, QueueBytes: 16 << 20})
	c := s.dial(t)
	c.join("golang")
	// Each message is refused with not_joined, so the server writes
	// as the client sends.
	stop := make(chan struct{})
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if c.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pause","room":"rust"}`)) != nil {
				return
			}
		}
	}()
	// The first refusal shows the server writing as the client sends.
	if m := c.next(); m.Type != "error" || m.Code != CodeNotJoined {
		t.Fatalf("got %v, want a refusal", m)
	}
	if err := s.hub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := c.closeError()
	close(stop)
	<-sending
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("connection ended with %v, want close 1001", err)
	}
}

func TestAnIdleConnectionKeepsNoWriter(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	c.join("golang")
	s.hub.mu.RLock()
	var sc *client
	for cl := range s.hub.clients {
		sc = cl
	}
	s.hub.mu.RUnlock()
	eventually(t, "the idle writer ends", func() bool {
		s.hub.sweepWriters()
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return !sc.writing
	})
	s.publish("golang")
	c.expect("tweet", "golang") // a writer starts again for it
	sc.ping()
	c.send(`{"type":"leave","room":"golang"}`)
	c.expect("left", "golang") // pinged and still working
}

// A refusal names what was wrong, and carries the room the message named,
// as it was sent, even when that is empty.
func TestARefusalNamesTheFieldAndCarriesTheRoom(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	tests := []struct {
		name, send string
		// want are parts the raw error line must hold; absent, parts it
		// must not.
		want   []string
		absent []string
	}{
		{"a negative since", `{"type":"join","room":"golang","since":-3}`,
			[]string{`"code":"bad_request"`, `\"since\" must be a whole number, 0 or more`, `"room":"golang"`}, nil},
		{"a since in quotes", `{"type":"join","room":"golang","since":"200"}`,
			[]string{`"code":"bad_request"`, `\"since\" must be a whole number`, `"room":"golang"`}, nil},
		{"an empty room", `{"type":"join","room":""}`,
			[]string{`"code":"bad_room"`, `"room":""`}, nil},
		{"a room that is not a string", `{"type":"join","room":5}`,
			[]string{`"code":"bad_request"`, `\"room\" must be a string`}, []string{`"room":`}},
		{"no room at all", `{"type":"join"}`,
			[]string{`"code":"bad_room"`, `a room is required`}, []string{`"room":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, _, err := websocket.DefaultDialer.Dial(s.wsURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.WriteMessage(websocket.TextMessage, []byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			line := ""
			for line == "" {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, data, err := conn.ReadMessage()
				if err != nil {
					t.Fatalf("no error came: %v", err)
				}
				for _, l := range strings.Split(string(data), "\n") {
					if strings.Contains(l, `"type":"error"`) {
						line = l
					}
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("%s answered %s; want it to hold %s", tt.send, line, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(line, a) {
					t.Errorf("%s answered %s; want no %s", tt.send, line, a)
				}
			}
		})
	}
}
