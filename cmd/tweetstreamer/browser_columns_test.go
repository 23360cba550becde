package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserMockRate is the mock's rate for the browser tests, over the eight
// default trends: about 20 tweets a second in each column, enough for every
// wait to end within a second, few enough for a page under the race
// detector to keep up.
const browserMockRate = "160"

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// columnSelector selects the column of room.
func columnSelector(room string) string {
	return fmt.Sprintf(`[data-testid="column"][data-room=%s]`, jsString(room))
}

// pageCard is one card of a column, as the probe lists it.
type pageCard struct {
	Seq    *int64 `json:"seq"` // nil when the card has no data-seq
	ID     string `json:"id"`
	Source string `json:"source"`
	Text   string `json:"text"`
}

// columnCards returns the cards of room's column, newest first.
func columnCards(p *browserPage, room string) []pageCard {
	p.t.Helper()
	return evaluate[[]pageCard](p, fmt.Sprintf(`window.__tsProbe.cards(%s)`, jsString(room)))
}

// waitColumn waits until the column of room is in the page.
func waitColumn(p *browserPage, room string) {
	p.t.Helper()
	waitFor[bool](p, "the "+room+" column", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(columnSelector(room))))
}

// clickTrends opens the column of each room by clicking its trend link, as
// a reader does, and waits for each column.
func clickTrends(p *browserPage, rooms ...string) {
	p.t.Helper()
	for _, room := range rooms {
		p.click(`[data-testid="trends"] a.trend[data-room="` + room + `"]`)
		waitColumn(p, room)
	}
}

// waitLiveCards waits until room's column holds at least n cards that
// arrived live: with a data-seq past the one the column was rendered with.
func waitLiveCards(p *browserPage, room string, n int) {
	p.t.Helper()
	waitFor[bool](p, fmt.Sprintf("%d live cards (data-seq past the rendered one) in the %s column", n, room),
		fmt.Sprintf(`window.__tsProbe.live(%s) >= %d`, jsString(room), n))
}

// renderedColumn is what the probe saw of a column when it was added: the
// data-epoch and data-seq the server rendered it with.
type renderedColumn struct {
	Seq   int64  `json:"seq"`
	Epoch string `json:"epoch"`
}

func renderedColumnOf(p *browserPage, room string) renderedColumn {
	p.t.Helper()
	return evaluate[renderedColumn](p, fmt.Sprintf(`window.__tsProbe.columns[%s]`, jsString(room)))
}

// checkContiguous fails unless cards, newest first, carry data-seq that
// fall by exactly one from each card to the next (no gap, no duplicate, in
// time order) and no tweet twice.
func checkContiguous(t *testing.T, room string, cards []pageCard) {
	t.Helper()
	ids := map[string]bool{}
	for i, c := range cards {
		key := c.Source + "/" + c.ID
		if ids[key] {
			t.Errorf("%s: tweet %s shown twice", room, key)
		}
		ids[key] = true
		if c.Seq == nil {
			t.Errorf("%s: card %d (%s) has no data-seq", room, i, key)
			return
		}
		if i > 0 && cards[i-1].Seq != nil && *cards[i-1].Seq != *c.Seq+1 {
			t.Errorf("%s: card %d has data-seq %d after %d: want %d (newest first, no gap, no duplicate)\nall: %v",
				room, i, *c.Seq, *cards[i-1].Seq, *cards[i-1].Seq-1, seqsOf(cards))
			return
		}
	}
}

func seqsOf(cards []pageCard) []string {
	out := make([]string, len(cards))
	for i, c := range cards {
		if c.Seq == nil {
			out[i] = "-"
		} else {
			out[i] = fmt.Sprint(*c.Seq)
		}
	}
	return out
}

// tweetsFor returns the tweet messages the page received for room.
func tweetsFor(msgs []wsMessage, room string) []wsMessage {
	var out []wsMessage
	for _, m := range msgs {
		if !m.Sent && m.Type == "tweet" && m.Room == room {
			out = append(out, m)
		}
	}
	return out
}

// wordIn reports whether word occurs in text as a whole word, in any case.
func wordIn(word, text string) bool {
	return regexp.MustCompile(`(?i)(^|[^\pL\pN_])` + regexp.QuoteMeta(word) + `($|[^\pL\pN_])`).MatchString(text)
}

func TestBrowserClickingATrendOpensAColumnOfItsLiveTweets(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	p.navigate("/")

	p.click(`[data-testid="trends"] a.trend[data-room="golang"]`)
	waitColumn(p, "golang")
	waitLiveCards(p, "golang", 5)

	cards := columnCards(p, "golang")
	for _, c := range cards {
		if !strings.Contains(strings.ToLower(c.Text), "golang") {
			t.Errorf("a card in the golang column does not mention golang: %q", c.Text)
		}
		if c.Seq == nil {
			t.Errorf("card %s has no data-seq", c.ID)
		}
	}
	tweets := tweetsFor(p.messages(), "golang")
	if len(tweets) < 5 {
		t.Errorf("the page received %d tweets for golang, want at least 5", len(tweets))
	}
	// The page asks for lean messages: the card and the seq, no tweet
	// object; and the browser's offer of compression is taken.
	for _, m := range tweets {
		if m.HTML == nil || !strings.Contains(*m.HTML, `data-testid="card"`) || m.Tweet != nil || m.Matched != nil {
			t.Errorf("tweet seq %d for golang is not the card variant: html %v, tweet %s, matched %v", m.Seq, m.HTML != nil, m.Tweet, m.Matched)
		}
	}
	if ext := p.socketExtensions(); len(ext) == 0 || !strings.HasPrefix(ext[0], "permessage-deflate") {
		t.Errorf("the page's WebSocket was answered with extensions %q, want permessage-deflate", ext)
	}
	if loc := evaluate[string](p, `location.pathname + location.search`); loc != "/?open=golang" {
		t.Errorf("the address is %s, want /?open=golang so that a reload keeps the column", loc)
	}
}

func TestBrowserTwoColumnsEachReceiveOnlyTheirOwnTweets(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	p.navigate("/")

	clickTrends(p, "golang", "rust")
	waitLiveCards(p, "golang", 5)
	waitLiveCards(p, "rust", 5)

	seen := map[string]string{} // tweet -> the column it is in
	for _, c := range []struct{ room, other string }{{"golang", "rust"}, {"rust", "golang"}} {
		for _, card := range columnCards(p, c.room) {
			if !wordIn(c.room, card.Text) {
				t.Errorf("a card in the %s column does not mention %s: %q", c.room, c.room, card.Text)
			}
			if wordIn(c.other, card.Text) {
				t.Errorf("a card in the %s column is about %s: %q", c.room, c.other, card.Text)
			}
			key := card.Source + "/" + card.ID
			if was, ok := seen[key]; ok {
				t.Errorf("tweet %s is in both the %s and the %s column", key, was, c.room)
			}
			seen[key] = c.room
		}
		if n := len(tweetsFor(p.messages(), c.room)); n < 5 {
			t.Errorf("%d tweets reached the %s column, want 5 or more", n, c.room)
		}
	}
}

func TestBrowserClosingAColumnLeavesItsRoom(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	p.navigate("/?open=golang,rust")
	waitLiveCards(p, "golang", 3)
	waitLiveCards(p, "rust", 3)
	waitRoomMembers(t, s, "golang", 1)

	p.click(columnSelector("golang") + ` [data-testid="close"]`)
	waitFor[bool](p, "the golang column to go", fmt.Sprintf(`!document.querySelector(%s)`, jsString(columnSelector("golang"))))
	msgs := p.waitMessages("the server's left for golang", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs, func(m wsMessage) bool { return !m.Sent && m.Type == "left" && m.Room == "golang" })
	})
	left := slices.IndexFunc(msgs, func(m wsMessage) bool { return !m.Sent && m.Type == "left" && m.Room == "golang" })
	if !slices.ContainsFunc(msgs[:left], func(m wsMessage) bool { return m.Sent && m.Type == "leave" && m.Room == "golang" }) {
		t.Errorf("the page got left for golang without sending leave")
	}
	waitRoomMembers(t, s, "golang", 0)

	// Let rust's column receive more, so that any golang tweet still on its
	// way would have arrived by then.
	rustAtLeft := len(tweetsFor(msgs[:left], "rust"))
	msgs = p.waitMessages("10 more tweets for rust after golang's left", func(msgs []wsMessage) bool {
		return len(tweetsFor(msgs, "rust")) >= rustAtLeft+10
	})
	if late := tweetsFor(msgs[left:], "golang"); len(late) > 0 {
		t.Errorf("%d tweets for golang reached the page after its left (first seq %d)", len(late), late[0].Seq)
	}
	if loc := evaluate[string](p, `location.pathname + location.search`); loc != "/?open=rust" {
		t.Errorf("after the close the address is %s, want /?open=rust", loc)
	}
	if n := evaluate[int](p, `document.querySelectorAll('[data-testid="column"]').length`); n != 1 {
		t.Errorf("%d columns left open, want 1 (rust)", n)
	}
}

func TestBrowserReloadingKeepsTheColumnsWithNoGapOrDuplicate(t *testing.T) {
	reloadKeepsTheColumns(t, start(t, nil, "-mock-rate", browserMockRate))
}

// reloadKeepsTheColumns reloads a page with two live columns of s, and
// checks that each resumes from its rendered position, with no gap or
// duplicate.
func reloadKeepsTheColumns(t *testing.T, s *server) {
	p := newPage(t, s)
	p.navigate("/")
	clickTrends(p, "golang", "rust")
	waitLiveCards(p, "golang", 3)
	waitLiveCards(p, "rust", 3)
	if loc := evaluate[string](p, `location.pathname + location.search`); loc != "/?open=golang,rust" {
		t.Fatalf("the address is %s, want /?open=golang,rust", loc)
	}

	before := len(p.messages())
	p.do("reloading", chromedp.Reload())
	for _, room := range []string{"golang", "rust"} {
		waitColumn(p, room)
		waitLiveCards(p, room, 5)
	}
	msgs := p.messages()[before:]
	for _, room := range []string{"golang", "rust"} {
		r := renderedColumnOf(p, room)
		if r.Epoch == "" || r.Seq <= 0 {
			t.Errorf("%s was rendered with epoch %q and seq %d: want the room's position, it has history", room, r.Epoch, r.Seq)
		}
		cards := columnCards(p, room)
		checkContiguous(t, room, cards)
		rendered := slices.ContainsFunc(cards, func(c pageCard) bool { return c.Seq != nil && *c.Seq <= r.Seq })
		live := slices.ContainsFunc(cards, func(c pageCard) bool { return c.Seq != nil && *c.Seq > r.Seq })
		if !rendered || !live {
			t.Errorf("%s: want both server-rendered cards (data-seq <= %d) and live ones; data-seq: %v", room, r.Seq, seqsOf(cards))
		}
		join := slices.IndexFunc(msgs, func(m wsMessage) bool { return m.Sent && m.Type == "join" && m.Room == room })
		switch {
		case join < 0:
			t.Errorf("%s: no join after the reload", room)
		case msgs[join].Since == nil || *msgs[join].Since != r.Seq || msgs[join].Epoch != r.Epoch:
			t.Errorf("%s: the join after the reload has epoch %q since %v, want the rendered epoch %q and seq %d",
				room, msgs[join].Epoch, msgs[join].Since, r.Epoch, r.Seq)
		}
		joined := slices.IndexFunc(msgs, func(m wsMessage) bool { return !m.Sent && m.Type == "joined" && m.Room == room })
		if joined < 0 || msgs[joined].Recovered == nil || !*msgs[joined].Recovered {
			t.Errorf("%s: the server did not answer the join with recovered:true", room)
		}
	}
}

func TestBrowserReconnectsAfterTheServerDropsTheSocket(t *testing.T) {
	reconnectsAfterADroppedSocket(t, start(t, nil, "-mock-rate", browserMockRate))
}

// reconnectsAfterADroppedSocket cuts the socket of a page with two live
// columns of s, and checks that it reconnects and recovers both with no gap
// or duplicate.
func reconnectsAfterADroppedSocket(t *testing.T, s *server) {
	px := newProxy(t, s)
	p := newPage(t, s)
	p.base = px.url()
	p.navigate("/?open=golang,rust")
	waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
	waitLiveCards(p, "golang", 3)
	waitLiveCards(p, "rust", 3)

	states := evaluate[int](p, `window.__tsProbe.conn.length`)
	before := len(p.messages())
	severAndReconnect(p, px, states)

	msgs := p.waitMessages("joined again for both rooms", func(msgs []wsMessage) bool {
		n := 0
		for _, m := range msgs[before:] {
			if !m.Sent && m.Type == "joined" {
				n++
			}
		}
		return n >= 2
	})[before:]
	for _, room := range []string{"golang", "rust"} {
		join := slices.IndexFunc(msgs, func(m wsMessage) bool { return m.Sent && m.Type == "join" && m.Room == room })
		if join < 0 || msgs[join].Since == nil {
			t.Errorf("%s: the join after the reconnect carries no since", room)
		}
		joined := slices.IndexFunc(msgs, func(m wsMessage) bool { return !m.Sent && m.Type == "joined" && m.Room == room })
		if joined < 0 || msgs[joined].Recovered == nil || !*msgs[joined].Recovered {
			t.Errorf("%s: the server did not answer with recovered:true", room)
		}
		// Wait for tweets published after the reconnect too, so that the
		// list spans before the cut, the recovered backlog and live again.
		var newest int64
		for _, m := range tweetsFor(msgs, room) {
			newest = max(newest, m.Seq)
		}
		waitFor[bool](p, fmt.Sprintf("a card past seq %d in %s", newest+3, room), fmt.Sprintf(
			`(window.__tsProbe.cards(%s) || []).some((c) => c.seq !== null && c.seq > %d)`, jsString(room), newest+3))
		checkContiguous(t, room, columnCards(p, room))
	}
}

// stallTweets is how many tweets the room gets while the page's socket is
// stalled: well past what the server's queue for it (256 KiB, some 600 of
// the page's lean, compressed tweets) and the sockets' buffers between
// (some 300 KiB) hold together, so the server must drop some of them for
// it.
const stallTweets = 2400

func TestBrowserASlowPageIsToldWhatItMissed(t *testing.T) {
	// Two trends at 800 a second: 400 a second for golang, so the stall
	// lasts some six seconds, under the ten a write may take before the
	// server gives up on the connection, and the page keeps up otherwise.
	s := start(t, nil, "-mock-rate", "800", "-trends", "golang,rust")
	px := newProxy(t, s)
	p := newPage(t, s)
	p.base = px.url()
	p.navigate("/?open=golang")
	waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
	waitLiveCards(p, "golang", 3)
	states := evaluate[int](p, `window.__tsProbe.conn.length`)

	// A client straight to the server, not through the proxy, sees how far
	// the room has gone.
	observer := s.dial(t)
	observer.send(`{"type":"join","room":"golang"}`)
	from := observer.nextOfType("joined")["seq"].(float64)

	n, resume := px.stallWebSockets()
	if n != 1 {
		resume()
		t.Fatalf("the proxy stalled %d WebSockets, want the page's one", n)
	}
	// The observer gets the room's backlog (at most -history, 100), then
	// one tweet per seq.
	reached := false
	for range 100 + stallTweets {
		if m := observer.nextOfType("tweet"); m["seq"].(float64) >= from+stallTweets {
			reached = true
			break
		}
	}
	resume()
	if !reached {
		t.Fatalf("the room did not reach seq %v", from+stallTweets)
	}

	msgs := p.waitMessages("skipped for golang", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs, func(m wsMessage) bool { return !m.Sent && m.Type == "skipped" && m.Room == "golang" })
	})
	var skipped, lastSkipped int64
	for _, m := range msgs {
		if !m.Sent && m.Type == "skipped" && m.Room == "golang" {
			if m.Count != m.ToSeq-m.FromSeq+1 {
				t.Errorf("skipped from %d to %d counts %d", m.FromSeq, m.ToSeq, m.Count)
			}
			skipped += m.Count
			lastSkipped = max(lastSkipped, m.ToSeq)
		}
	}
	// The page may show one marker for each skipped message or one for
	// them all; either way the markers count what the server skipped.
	markers := waitFor[[]struct {
		Count int64  `json:"count"`
		Text  string `json:"text"`
	}](p, fmt.Sprintf("gap markers of kind skipped counting %d in the golang column", skipped), fmt.Sprintf(`(() => {
		const gaps = window.__tsProbe.gaps.filter((g) => g.room === "golang" && g.kind === "skipped");
		return gaps.reduce((n, g) => n + g.count, 0) === %d && gaps;
	})()`, skipped))
	for _, m := range markers {
		if !strings.Contains(m.Text, fmt.Sprint(m.Count)) {
			t.Errorf("a gap marker says %q, without its count %d", m.Text, m.Count)
		}
	}
	waitFor[bool](p, fmt.Sprintf("live cards again, past seq %d", lastSkipped), fmt.Sprintf(
		`(window.__tsProbe.cards("golang") || []).some((c) => c.seq !== null && c.seq > %d)`, lastSkipped))
	if conn := evaluate[[]string](p, fmt.Sprintf(`window.__tsProbe.conn.slice(%d)`, states)); len(conn) > 0 {
		t.Errorf("a slow page was disconnected: the connection went %v", conn)
	}
	sockets := map[string]bool{}
	for _, m := range p.messages() {
		sockets[m.Socket] = true
	}
	if len(sockets) != 1 {
		t.Errorf("the page used %d WebSockets, want 1: the server must not drop a slow reader", len(sockets))
	}
}
