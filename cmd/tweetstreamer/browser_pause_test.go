package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// pauseHistory is the history each room keeps in the pause test: far more
// than a column holds back in the few seconds it is paused (some 35 tweets
// a second), so that resuming replays every one of them rather than a
// skipped for what history lost.
const pauseHistory = "1000"

// columnControls is what a column's head shows, as the reader sees it.
type columnControls struct {
	Pressed   string `json:"pressed"`   // the pause button's aria-pressed
	Label     string `json:"label"`     // the pause button's text
	HeldShown bool   `json:"heldShown"` // [data-testid=held] is on screen
	HeldText  string `json:"heldText"`
	Held      int64  `json:"held"` // the N of "N new"; -1 when it says something else
	JumpShown bool   `json:"jumpShown"`
	Cards     int    `json:"cards"`
	Top       int64  `json:"top"` // the newest card's data-seq; -1 with no card
}

// columnControlsJS is a JavaScript expression for room's columnControls.
func columnControlsJS(room string) string {
	return fmt.Sprintf(`(() => {
		const col = document.querySelector(%s);
		if (!col) return null;
		const shown = (el) => !!el && !el.hidden && el.getClientRects().length > 0 &&
			getComputedStyle(el).visibility !== "hidden";
		const held = col.querySelector('[data-testid="held"]');
		const pause = col.querySelector('[data-testid="pause"]');
		const m = /^(\d+) new$/.exec(held.textContent.trim());
		const cards = col.querySelectorAll('[data-testid="tweets"] > [data-testid="card"]');
		return {
			pressed: pause.getAttribute("aria-pressed"), label: pause.textContent.trim(),
			heldShown: shown(held), heldText: held.textContent.trim(), held: m ? Number(m[1]) : -1,
			jumpShown: shown(col.querySelector('[data-testid="jump-live"]')),
			cards: cards.length, top: cards.length > 0 ? Number(cards[0].dataset.seq) : -1,
		};
	})()`, jsString(columnSelector(room)))
}

// waitControls waits until cond, a JavaScript condition on s (room's
// columnControls), holds, and returns s.
func waitControls(p *browserPage, room, what, cond string) columnControls {
	p.t.Helper()
	return waitFor[columnControls](p, what, fmt.Sprintf(`(() => { const s = %s; return !!s && (%s) && s; })()`, columnControlsJS(room), cond))
}

// roomTweetSeqs returns the seq of every tweet the page received for room,
// in the order they came.
func roomTweetSeqs(msgs []wsMessage, room string) []int64 {
	var out []int64
	for _, m := range tweetsFor(msgs, room) {
		out = append(out, m.Seq)
	}
	return out
}

// firstHeld returns the index of the first stats message in msgs that tells
// the page how many of room's tweets the server holds back, or -1: from
// there on, the server sends none of them until the page resumes.
func firstHeld(msgs []wsMessage, room string) int {
	return slices.IndexFunc(msgs, func(m wsMessage) bool {
		return !m.Sent && m.Type == "stats" && m.Room == room && m.Held != nil
	})
}

func TestBrowserPausingHoldsTweetsResumingReplaysThemJumpingToLiveSkipsThem(t *testing.T) {
	// Three trends at 100 a second: each column gets some 35 tweets a
	// second, so "N new" grows at every stats tick (2 s).
	s := start(t, nil, "-mock-rate", "100", "-trends", "golang,rust,ai", "-history", pauseHistory)
	waitRenderedCards(t, s, "golang")
	p := newPage(t, s)
	p.navigate("/?open=golang")
	waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
	waitLiveCards(p, "golang", 3)
	pauseButton := columnSelector("golang") + ` [data-testid="pause"]`

	// Pause: the count of held tweets shows and grows, and the column
	// stays as it was.
	if c := evaluate[columnControls](p, columnControlsJS("golang")); c.HeldShown || c.JumpShown || c.Pressed != "false" {
		t.Errorf("before the pause the column shows held %v (%q), jump to live %v, pause aria-pressed %q: want neither shown, not pressed",
			c.HeldShown, c.HeldText, c.JumpShown, c.Pressed)
	}
	pauseAt := len(p.messages())
	p.click(pauseButton)
	first := waitControls(p, "golang", `"N new" with N at least 3 in the paused golang column`,
		`s.pressed === "true" && s.heldShown && s.held >= 3`)
	if !first.JumpShown {
		t.Error("while paused, the jump to live button is not shown")
	}
	if first.Label != "resume" {
		t.Errorf("while paused, the pause button says %q, want resume", first.Label)
	}
	second := waitControls(p, "golang", fmt.Sprintf(`"N new" with N past %d`, first.Held),
		fmt.Sprintf(`s.held > %d`, first.Held))
	if second.Top != first.Top || second.Cards != first.Cards {
		t.Errorf("while paused the column changed: %d cards, newest data-seq %d, then %d cards, newest %d",
			first.Cards, first.Top, second.Cards, second.Top)
	}
	msgs := p.messages()
	held := firstHeld(msgs[pauseAt:], "golang")
	if held < 0 {
		t.Fatal(`the page shows "N new" but received no stats with held for golang`)
	}
	held += pauseAt
	if late := tweetsFor(msgs[held:], "golang"); len(late) > 0 {
		t.Errorf("the server sent %d golang tweets to the paused page (first seq %d)", len(late), late[0].Seq)
	}
	told := false
	for _, m := range msgs[held:] {
		if !m.Sent && m.Type == "stats" && m.Room == "golang" && m.Held != nil && *m.Held == second.Held {
			told = true
		}
	}
	if !told {
		t.Errorf(`the column says %q, a count the server never sent in held`, second.HeldText)
	}
	// The page shows every tweet it got before the pause took effect.
	pausedAt := slices.Max(roomTweetSeqs(msgs, "golang"))
	resumedFrom := pausedAt + 1
	if second.Top != pausedAt {
		t.Errorf("while paused the newest card has data-seq %d, want %d, the last tweet received", second.Top, pausedAt)
	}

	// Resume: what was held comes, in order, then live tweets again.
	resumeAt := len(p.messages())
	p.click(pauseButton)
	resumed := waitControls(p, "golang", "the golang column resumed",
		`s.pressed === "false" && !s.heldShown && !s.jumpShown`)
	if resumed.Label != "pause" {
		t.Errorf("after resuming the button says %q, want pause", resumed.Label)
	}
	msgs = p.messages()
	if !slices.ContainsFunc(msgs[resumeAt:], func(m wsMessage) bool { return m.Sent && m.Type == "resume" && m.Room == "golang" }) {
		t.Fatal("the pause button, pressed again, sent no resume for golang")
	}
	past := pausedAt + second.Held + 3
	waitFor[bool](p, fmt.Sprintf("a golang card past data-seq %d (the held ones, then live)", past), fmt.Sprintf(
		`(window.__tsProbe.cards("golang") || []).some((c) => c.seq !== null && c.seq >= %d)`, past))
	msgs = p.messages()
	seqs := roomTweetSeqs(msgs, "golang")
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("the golang tweets came with seq %d after %d, across a pause and a resume: want one more each time", seqs[i], seqs[i-1])
			break
		}
	}
	if after := roomTweetSeqs(msgs[resumeAt:], "golang"); len(after) == 0 || after[0] != resumedFrom {
		t.Errorf("after the resume the first golang tweet has seq %v, want %d, the first held one", after[:min(1, len(after))], resumedFrom)
	}
	for _, m := range msgs {
		if !m.Sent && m.Type == "skipped" && m.Room == "golang" {
			t.Errorf("resuming with replay got a skipped for seq %d to %d; history held them all", m.FromSeq, m.ToSeq)
		}
	}
	cards := columnCards(p, "golang")
	checkContiguous(t, "golang", cards)
	if gaps := evaluate[int](p, `document.querySelectorAll('[data-testid="gap"]').length`); gaps != 0 {
		t.Errorf("after pausing and resuming the column holds %d gap markers, want none: nothing was missed", gaps)
	}

	// Pause again, then jump to live: the held tweets are skipped, and a
	// marker stands where they were.
	pauseAt = len(p.messages())
	p.click(pauseButton)
	again := waitControls(p, "golang", `"N new" with N at least 2 in the golang column paused again`,
		`s.pressed === "true" && s.heldShown && s.jumpShown && s.held >= 2`)
	msgs = p.messages()
	if firstHeld(msgs[pauseAt:], "golang") < 0 {
		t.Fatal(`the page shows "N new" but received no stats with held for golang`)
	}
	pausedAt = slices.Max(roomTweetSeqs(msgs, "golang"))
	jumpAt := len(msgs)
	p.click(columnSelector("golang") + ` [data-testid="jump-live"]`)
	msgs = p.waitMessages("a skipped for golang after jump to live", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[jumpAt:], func(m wsMessage) bool { return !m.Sent && m.Type == "skipped" && m.Room == "golang" })
	})
	var skipped wsMessage
	for _, m := range msgs[jumpAt:] {
		if !m.Sent && m.Type == "skipped" && m.Room == "golang" {
			skipped = m
			break
		}
	}
	if skipped.FromSeq != pausedAt+1 || skipped.Count != skipped.ToSeq-skipped.FromSeq+1 {
		t.Errorf("the server skipped seq %d to %d, counting %d: want from %d, the first held one, and a count that matches",
			skipped.FromSeq, skipped.ToSeq, skipped.Count, pausedAt+1)
	}
	if skipped.Count < again.Held {
		t.Errorf("the server skipped %d tweets, fewer than the %d the column said it held", skipped.Count, again.Held)
	}
	type gapOnPage struct {
		Kind  string  `json:"kind"`
		Count int64   `json:"count"`
		Text  string  `json:"text"`
		Above []int64 `json:"above"` // data-seq of the cards above it
		Below int64   `json:"below"` // data-seq of the card just below it; -1 if none
	}
	gap := waitFor[gapOnPage](p, "a jumped gap marker in the golang column with two live cards above it", fmt.Sprintf(`(() => {
		const list = document.querySelector(%s + ' [data-testid="tweets"]');
		const gap = list && list.querySelector(':scope > [data-testid="gap"][data-kind="jumped"]');
		if (!gap) return false;
		const items = Array.from(list.children);
		const at = items.indexOf(gap);
		const above = items.slice(0, at).filter((li) => li.dataset.testid === "card").map((li) => Number(li.dataset.seq));
		if (above.length < 2) return false;
		const below = items.slice(at + 1).find((li) => li.dataset.testid === "card");
		return { kind: gap.dataset.kind, count: Number(gap.dataset.count), text: gap.textContent.trim(),
			above, below: below ? Number(below.dataset.seq) : -1 };
	})()`, jsString(columnSelector("golang"))))
	if gap.Count != skipped.Count {
		t.Errorf("the jumped marker counts %d, want %d, what the server skipped", gap.Count, skipped.Count)
	}
	if !strings.Contains(gap.Text, fmt.Sprint(skipped.Count)) {
		t.Errorf("the jumped marker says %q, without the count %d", gap.Text, skipped.Count)
	}
	for _, seq := range gap.Above {
		if seq <= skipped.ToSeq {
			t.Errorf("a card above the jumped marker has data-seq %d, inside or before the skipped range %d to %d", seq, skipped.FromSeq, skipped.ToSeq)
		}
	}
	if gap.Below != pausedAt {
		t.Errorf("the card below the jumped marker has data-seq %d, want %d, the last one shown before the pause", gap.Below, pausedAt)
	}
	if after := roomTweetSeqs(msgs[jumpAt:], "golang"); len(after) > 0 && after[0] != skipped.ToSeq+1 {
		t.Errorf("after the jump the first golang tweet has seq %d, want %d, just past what was skipped", after[0], skipped.ToSeq+1)
	}
	live := evaluate[columnControls](p, columnControlsJS("golang"))
	if live.HeldShown || live.JumpShown || live.Pressed != "false" {
		t.Errorf("after jump to live the column shows held %v (%q), jump to live %v, pause aria-pressed %q: want neither shown, not pressed",
			live.HeldShown, live.HeldText, live.JumpShown, live.Pressed)
	}
	t.Logf("paused: held %d then %d; resumed from seq %d; paused again at %d with %d held; jump skipped %d to %d (%d)",
		first.Held, second.Held, resumedFrom, pausedAt, again.Held, skipped.FromSeq, skipped.ToSeq, skipped.Count)
	kinds := evaluate[[]string](p, `window.__tsProbe.gaps.filter((g) => g.room === "golang").map((g) => g.kind)`)
	if !slices.Equal(kinds, []string{"jumped"}) {
		t.Errorf("the golang column got gap markers %v, want one, jumped", kinds)
	}
}

// sentFrame is the text of one WebSocket frame the page sent, as it went
// out: the harness keeps only the fields of the protocol it parses.
type sentFrame struct {
	socket  string // the CDP request ID of its connection
	payload string
}

// sentFrames records every text frame a page sends from its creation on.
type sentFrames struct {
	mu      sync.Mutex
	frames  []sentFrame
	changed chan struct{} // closed and replaced whenever frames grows
}

// recordSentFrames starts recording the text frames p sends; call it
// before the page loads.
func recordSentFrames(p *browserPage) *sentFrames {
	p.t.Helper()
	r := &sentFrames{changed: make(chan struct{})}
	err := chromedp.Listen(p.ctx, func(ev any) {
		if ev, ok := ev.(*network.EventWebSocketFrameSent); ok && ev.Response != nil && ev.Response.Opcode == 1 {
			r.mu.Lock()
			r.frames = append(r.frames, sentFrame{socket: string(ev.RequestID), payload: string(ev.Response.PayloadData)})
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	})
	if err != nil {
		p.t.Fatalf("listening to the frames the page sends: %v", err)
	}
	return r
}

// waitJoins waits until the page sent, on socket, at least one join for
// room, and returns every such join as a JSON object with all its fields.
// The harness may record a frame a moment before this recorder does.
func (r *sentFrames) waitJoins(t *testing.T, socket, room string) []map[string]any {
	t.Helper()
	timer := time.NewTimer(domWait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		frames, changed := r.frames, r.changed
		r.mu.Unlock()
		var joins []map[string]any
		for _, f := range frames {
			if f.socket != socket {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(f.payload), &m); err != nil {
				t.Fatalf("the page sent a frame that is not one JSON message: %q", f.payload)
			}
			if m["type"] == "join" && m["room"] == room {
				joins = append(joins, m)
			}
		}
		if len(joins) > 0 {
			return joins
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("waited %v for the text of a join for %s on socket %s; none was recorded", domWait, room, socket)
		}
	}
}

// recordHeldTexts keeps, in window.__heldTexts, every text the page puts in
// a column's "N new", in order, which a test cannot catch by polling when
// the next stats replaces it at once.
func recordHeldTexts(p *browserPage) {
	p.t.Helper()
	addInitScript(p, `(() => {
		const texts = [];
		Object.defineProperty(window, "__heldTexts", { value: texts });
		new MutationObserver((records) => {
			for (const r of records) {
				if (!(r.target instanceof Element) || r.target.dataset.testid !== "held") continue;
				for (const node of r.addedNodes) texts.push(node.textContent.trim());
			}
		}).observe(document, { childList: true, subtree: true });
	})();`)
}

// lastHeld returns the index in msgs of the last message that told the
// page how many of room's tweets the server holds back (a joined or a
// stats with held), and that count; -1 and 0 without one.
func lastHeld(msgs []wsMessage, room string) (int, int64) {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if !m.Sent && m.Room == room && m.Held != nil && (m.Type == "joined" || m.Type == "stats") {
			return i, *m.Held
		}
	}
	return -1, 0
}

func TestBrowserAPausedColumnStaysPutAcrossADroppedSocketAndResumesWhereItStopped(t *testing.T) {
	// About 20 tweets a second in golang, and history enough to replay
	// every one held back in the seconds the column stays paused.
	s := start(t, nil, "-mock-rate", browserMockRate, "-history", pauseHistory)
	waitRenderedCards(t, s, "golang")
	px := newProxy(t, s)
	p := newPage(t, s)
	p.base = px.url()
	sent := recordSentFrames(p)
	recordHeldTexts(p)
	p.navigate("/?open=golang")
	waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
	waitLiveCards(p, "golang", 3)
	pauseButton := columnSelector("golang") + ` [data-testid="pause"]`

	// Pause. Once the server says how many it holds, it sends no more
	// golang tweets, so the newest card is where the column stopped.
	p.click(pauseButton)
	stopped := waitControls(p, "golang", `"N new" with N at least 3 in the paused golang column`,
		`s.pressed === "true" && s.heldShown && s.held >= 3`)
	msgs := p.waitMessages("a stats with held for golang", func(msgs []wsMessage) bool { return firstHeld(msgs, "golang") >= 0 })
	heldAt := firstHeld(msgs, "golang")
	oldSocket := msgs[heldAt].Socket
	epoch := renderedColumnOf(p, "golang").Epoch
	top := stopped.Top
	if last := slices.Max(roomTweetSeqs(msgs, "golang")); last != top {
		t.Fatalf("the paused column's newest card has data-seq %d, want %d, the last golang tweet received", top, last)
	}
	states := evaluate[int](p, `window.__tsProbe.conn.length`)
	texts := evaluate[int](p, `window.__heldTexts.length`)

	// Drop the socket; the page comes back on a new one.
	cut := len(msgs)
	severAndReconnect(p, px, states)
	isJoin := func(m wsMessage) bool { return m.Sent && m.Type == "join" && m.Room == "golang" }
	msgs = p.waitMessages("a join for golang after the cut", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[cut:], isJoin)
	})
	joinAt := cut + slices.IndexFunc(msgs[cut:], isJoin)
	newSocket := msgs[joinAt].Socket
	if newSocket == oldSocket {
		t.Fatalf("the join after the cut went out on the socket that was cut (%s)", oldSocket)
	}
	joins := sent.waitJoins(t, newSocket, "golang")
	if len(joins) != 1 {
		t.Fatalf("the page sent %d joins for golang on the new socket, want 1: %v", len(joins), joins)
	}
	join := joins[0]
	if join["paused"] != true || join["since"] != float64(top) || join["epoch"] != epoch {
		t.Errorf(`the paused column joined again with %v: want "paused":true, "since":%d and "epoch":%q, where it stopped`, join, top, epoch)
	}

	isJoined := func(m wsMessage) bool { return !m.Sent && m.Type == "joined" && m.Room == "golang" }
	msgs = p.waitMessages("joined for golang after the new join", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[joinAt:], isJoined)
	})
	joinedAt := joinAt + slices.IndexFunc(msgs[joinAt:], isJoined)
	joined := msgs[joinedAt]
	switch {
	case joined.Held == nil:
		t.Fatalf("the server answered the paused join with no held: %+v", joined)
	case *joined.Held < stopped.Held:
		t.Errorf("the server holds %d golang tweets after the reconnect, fewer than the %d held before it", *joined.Held, stopped.Held)
	}
	if joined.Recovered == nil || !*joined.Recovered {
		t.Errorf("the server did not answer the paused join since %d with recovered:true", top)
	}
	waitFor[bool](p, fmt.Sprintf(`"%d new" in the paused column, the held of the new joined`, *joined.Held), fmt.Sprintf(
		`window.__heldTexts.slice(%d).includes(%s)`, texts, jsString(fmt.Sprintf("%d new", *joined.Held))))

	// Time passes on the new connection: a stats tick tells how many are
	// held by then.
	isHeldStats := func(m wsMessage) bool { return !m.Sent && m.Type == "stats" && m.Room == "golang" && m.Held != nil }
	msgs = p.waitMessages("a stats with held for golang after the new joined", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[joinedAt+1:], isHeldStats)
	})
	latestAt, latest := lastHeld(msgs, "golang")
	shown := waitControls(p, "golang", fmt.Sprintf(`"N new" with N at least %d, the latest held`, latest),
		fmt.Sprintf(`s.held >= %d`, latest))
	// The page may be a tick ahead of what was read from the frames, but
	// only with a count the server sent.
	msgs = p.waitMessages(fmt.Sprintf("a held of %d for golang", shown.Held), func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[latestAt:], func(m wsMessage) bool {
			return !m.Sent && m.Room == "golang" && m.Held != nil && *m.Held == shown.Held
		})
	})
	if late := tweetsFor(msgs[cut:], "golang"); len(late) > 0 {
		t.Errorf("after the reconnect the paused page got %d golang tweets (first seq %d)", len(late), late[0].Seq)
	}
	if shown.Top != top || shown.Cards != stopped.Cards {
		t.Errorf("across the reconnect the paused column went from %d cards, newest data-seq %d, to %d cards, newest %d: want it unchanged",
			stopped.Cards, top, shown.Cards, shown.Top)
	}
	if shown.Pressed != "true" || !shown.HeldShown || !shown.JumpShown {
		t.Errorf("after the reconnect the column's pause has aria-pressed %q, held shown %v, jump to live shown %v: want it still paused",
			shown.Pressed, shown.HeldShown, shown.JumpShown)
	}

	// Resume: what was held comes from just past where the column stopped,
	// in order, then live tweets.
	resumeAt := len(msgs)
	_, held := lastHeld(msgs, "golang")
	p.click(pauseButton)
	waitControls(p, "golang", "the golang column resumed", `s.pressed === "false" && !s.heldShown && !s.jumpShown`)
	past := top + held + 3
	waitFor[bool](p, fmt.Sprintf("a golang card past data-seq %d (the held ones, then live)", past), fmt.Sprintf(
		`(window.__tsProbe.cards("golang") || []).some((c) => c.seq !== null && c.seq >= %d)`, past))
	msgs = p.messages()
	if !slices.ContainsFunc(msgs[resumeAt:], func(m wsMessage) bool { return m.Sent && m.Type == "resume" && m.Room == "golang" }) {
		t.Fatal("the pause button, pressed again, sent no resume for golang")
	}
	after := roomTweetSeqs(msgs[resumeAt:], "golang")
	if len(after) == 0 || after[0] != top+1 {
		t.Errorf("after the resume the first golang tweet has seq %v, want %d, just past where the column stopped", after[:min(1, len(after))], top+1)
	}
	for i := 1; i < len(after); i++ {
		if after[i] != after[i-1]+1 {
			t.Errorf("after the resume golang tweets came with seq %d after %d: want one more each time", after[i], after[i-1])
			break
		}
	}
	for _, m := range msgs[cut:] {
		if !m.Sent && m.Type == "skipped" && m.Room == "golang" {
			t.Errorf("the server skipped golang seq %d to %d; history held them all", m.FromSeq, m.ToSeq)
		}
	}
	cards := columnCards(p, "golang")
	var above []pageCard
	for _, c := range cards {
		if c.Seq != nil && *c.Seq > top {
			above = append(above, c)
		}
	}
	checkContiguous(t, "golang", above)
	if i := len(above); i < len(cards) && (cards[i].Seq == nil || *cards[i].Seq != top) {
		t.Errorf("below the resumed cards the golang column shows %v, want data-seq %d, where it stopped: %v", seqsOf(cards[i:i+1]), top, seqsOf(cards))
	}
	if gaps := evaluate[int](p, `document.querySelectorAll('[data-testid="gap"]').length`); gaps != 0 {
		t.Errorf("after the reconnect and the resume the column holds %d gap markers, want none: nothing was missed", gaps)
	}
	t.Logf("stopped at seq %d with %d held; joined again holding %d; %d held when resumed; %d cards above seq %d",
		top, stopped.Held, *joined.Held, held, len(above), top)
}
