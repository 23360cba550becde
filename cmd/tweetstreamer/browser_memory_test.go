package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// projectorState is what the page says about projector mode.
type projectorState struct {
	Big     bool   `json:"big"`     // <html> has class big
	Pressed string `json:"pressed"` // the toggle's aria-pressed
	Param   string `json:"param"`   // the address's big parameter; "" without one
	Stored  string `json:"stored"`  // localStorage["tweetstreamer.big"]; "" without one
	Columns int    `json:"columns"`
}

const projectorStateJS = `({
	big: document.documentElement.classList.contains("big"),
	pressed: document.querySelector('[data-testid="big-toggle"]').getAttribute("aria-pressed"),
	param: new URLSearchParams(location.search).get("big") || "",
	stored: localStorage.getItem("tweetstreamer.big") || "",
	columns: document.querySelectorAll('[data-testid="column"]').length,
})`

// waitProjector waits until the script has started and projector mode is
// on (big) or off, and returns what the page says about it.
func waitProjector(p *browserPage, what string, big bool) projectorState {
	p.t.Helper()
	return waitFor[projectorState](p, what, fmt.Sprintf(`document.documentElement.classList.contains("js") &&
		document.documentElement.classList.contains("big") === %t && %s`, big, projectorStateJS))
}

func TestBrowserProjectorModeIsRememberedUntilTurnedOff(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	p.navigate("/?open=golang")
	waitColumn(p, "golang")
	if st := waitProjector(p, "the page in its normal mode", false); st.Pressed != "false" {
		t.Errorf("before the toggle, it has aria-pressed %q, want false", st.Pressed)
	}

	// The script turns the mode on in place: no page is loaded.
	evaluate[bool](p, `window.__sameDocument = true`)
	p.click(`[data-testid="big-toggle"]`)
	on := waitFor[projectorState](p, "projector mode after the toggle", `document.documentElement.classList.contains("big") && `+projectorStateJS)
	if on.Pressed != "true" || on.Param != "1" {
		t.Errorf("in projector mode the toggle has aria-pressed %q and the address big=%q: want true and 1", on.Pressed, on.Param)
	}
	if on.Stored != "true" {
		t.Errorf("in projector mode tweetstreamer.big is %q in localStorage, want true", on.Stored)
	}
	if !evaluate[bool](p, `window.__sameDocument === true`) || on.Columns != 1 {
		t.Errorf("the toggle loaded the page again or lost the column (%d columns): the script should turn the mode on in place", on.Columns)
	}
	if got := openInAddress(p); len(got) != 1 || got[0] != "golang" {
		t.Errorf("in projector mode the address opens %v, want [golang]", got)
	}

	// Remembered: a page without big=1 comes up in projector mode.
	p.navigate("/?open=golang")
	again := waitProjector(p, "projector mode remembered on /?open=golang", true)
	if again.Pressed != "true" {
		t.Errorf("remembered projector mode: the toggle has aria-pressed %q, want true", again.Pressed)
	}
	if again.Columns != 1 {
		t.Errorf("remembered projector mode: %d columns, want golang's", again.Columns)
	}

	// ?big=0 turns it off, and that is remembered too.
	p.navigate("/?open=golang&big=0")
	if off := waitProjector(p, "projector mode off with ?big=0", false); off.Pressed != "false" || off.Stored != "false" {
		t.Errorf("with ?big=0 the toggle has aria-pressed %q and tweetstreamer.big is %q: want false and false", off.Pressed, off.Stored)
	}
	p.navigate("/?open=golang")
	waitProjector(p, "projector mode still off on /?open=golang after ?big=0", false)

	// The toggle turns it off again in place.
	p.click(`[data-testid="big-toggle"]`)
	waitFor[bool](p, "projector mode on again", `document.documentElement.classList.contains("big")`)
	p.click(`[data-testid="big-toggle"]`)
	if off := waitFor[projectorState](p, "projector mode off after a second press", `!document.documentElement.classList.contains("big") && `+projectorStateJS); off.Pressed != "false" || off.Param != "" || off.Stored != "false" {
		t.Errorf("turned off: aria-pressed %q, address big=%q, tweetstreamer.big %q: want false, none and false", off.Pressed, off.Param, off.Stored)
	}
}

// renderedSeq matches the data-seq of a column fragment's section.
var renderedSeq = regexp.MustCompile(`<section[^>]*data-testid="column"[^>]*data-seq="(\d+)"`)

// waitRenderedPast waits until the server renders room's column with a
// data-seq past seq: that many tweets were published since.
func waitRenderedPast(t *testing.T, s *server, room string, seq int64) int64 {
	t.Helper()
	deadline := time.Now().Add(domWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		_, body := s.get(t, "/column?room="+room)
		m := renderedSeq.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET /column?room=%s: no data-seq in %s", room, body)
		}
		got, _ := strconv.ParseInt(m[1], 10, 64)
		if got > seq {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s column is at seq %d after %v, want past %d", room, got, domWait, seq)
		}
		<-tick.C
	}
}

// storedPosition is one room's entry in localStorage["tweetstreamer.positions"].
type storedPosition struct {
	Epoch string `json:"epoch"`
	Seq   *int64 `json:"seq"`
}

// lastVisitMarker is a column's last-visit marker and the cards around it.
type lastVisitMarker struct {
	Markers int     `json:"markers"` // last-visit markers in the column
	Count   int     `json:"count"`   // its data-count
	Text    string  `json:"text"`
	Above   []int64 `json:"above"` // data-seq of the cards above it, newest first
	Below   []int64 `json:"below"` // and below it
}

func TestBrowserAReturningReaderSeesWhatIsNewSinceTheLastVisit(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	waitRenderedCards(t, s, "golang")
	p := newPage(t, s)
	p.navigate("/?open=golang")
	waitLiveCards(p, "golang", 3)
	first := renderedColumnOf(p, "golang")
	if n := evaluate[int](p, `document.querySelectorAll('[data-testid="gap"][data-kind="last-visit"]').length`); n != 0 {
		t.Errorf("a first visit shows %d last-visit markers, want none", n)
	}
	top := evaluate[int64](p, columnSelectorJS("golang")+`.querySelector('[data-testid="card"]').dataset.seq * 1`)

	// Leave for a page of the same origin that runs no script, where the
	// stored position can be read.
	p.navigate("/healthz")
	raw := evaluate[string](p, `localStorage.getItem("tweetstreamer.positions") || ""`)
	var positions map[string]storedPosition
	if err := json.Unmarshal([]byte(raw), &positions); err != nil {
		t.Fatalf("localStorage holds tweetstreamer.positions %q: %v", raw, err)
	}
	left, ok := positions["golang"]
	switch {
	case !ok || left.Seq == nil:
		t.Fatalf("tweetstreamer.positions is %s: no golang seq", raw)
	case left.Epoch != first.Epoch:
		t.Errorf("tweetstreamer.positions has golang's epoch %q, want %q, the column's", left.Epoch, first.Epoch)
	case *left.Seq < top:
		t.Errorf("tweetstreamer.positions has golang at seq %d, before %d, the newest card the page showed", *left.Seq, top)
	}
	seen := *left.Seq

	// Tweets come while the reader is away; then the reader comes back.
	waitRenderedPast(t, s, "golang", seen+3)
	p.navigate("/?open=golang")
	waitColumn(p, "golang")
	back := renderedColumnOf(p, "golang")
	if back.Epoch != first.Epoch || back.Seq <= seen+3 {
		t.Fatalf("the page came back rendered at epoch %q seq %d, want epoch %q past seq %d", back.Epoch, back.Seq, first.Epoch, seen+3)
	}
	m := evaluate[lastVisitMarker](p, lastVisitJS("golang"))
	if m.Markers != 1 {
		t.Fatalf("the column came back with %d last-visit markers, want 1", m.Markers)
	}
	// Live cards may be above the rendered ones already; the marker
	// counts those the server rendered since the last visit.
	rendered := 0
	for _, seq := range m.Above {
		if seq <= seen {
			t.Errorf("a card above the last-visit marker has data-seq %d, seen before leaving (at %d)", seq, seen)
		}
		if seq <= back.Seq {
			rendered++
		}
	}
	if want := back.Seq - seen; int64(rendered) != want || int64(m.Count) != want {
		t.Errorf("the last-visit marker counts %d and has %d rendered cards above it, want %d (seq %d to %d): above %v",
			m.Count, rendered, want, seen+1, back.Seq, m.Above)
	}
	if len(m.Below) == 0 {
		t.Errorf("no card below the last-visit marker: the column rendered %d tweets, only %d of them new", len(m.Above), m.Count)
	} else if m.Below[0] != seen {
		t.Errorf("the card below the last-visit marker has data-seq %d, want %d, the last one seen", m.Below[0], seen)
	}
	if !wordIn(strconv.Itoa(m.Count), m.Text) {
		t.Errorf("the last-visit marker says %q, without its count %d", m.Text, m.Count)
	}
}

// columnSelectorJS is a JavaScript expression for room's column element.
func columnSelectorJS(room string) string {
	return fmt.Sprintf(`document.querySelector(%s)`, jsString(columnSelector(room)))
}

// positionsKey is where the page keeps each room's position.
const positionsKey = "tweetstreamer.positions"

// cardsShown is how many cards a column shows: maxCards in views/column.go,
// MAX_CARDS in the script.
const cardsShown = 50

// positionsKept is how many rooms' positions the page keeps: MAX_POSITIONS
// in the script.
const positionsKept = 50

// addInitScript runs js in every document p loads from now on, before the
// page's own script.
func addInitScript(p *browserPage, js string) {
	p.t.Helper()
	p.do("adding a script to every document", chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return err
	}))
}

// markPositionSaves makes each write of the stored positions a change of the
// document (data-positions-saved on <html> counts them), so that a wait
// polled on mutations looks again at the moment of a save, before the next
// tweet is shown.
func markPositionSaves(p *browserPage) {
	p.t.Helper()
	addInitScript(p, `(() => {
		const setItem = Storage.prototype.setItem;
		let saves = 0;
		Storage.prototype.setItem = function (key, value) {
			const r = setItem.call(this, key, value);
			if (key === `+jsString(positionsKey)+` && document.documentElement) {
				document.documentElement.dataset.positionsSaved = String(++saves);
			}
			return r;
		};
	})();`)
}

// storedPositionsJS is a JavaScript expression for the stored positions,
// parsed; null when there are none or they do not parse.
var storedPositionsJS = `(() => { try { return JSON.parse(localStorage.getItem(` + jsString(positionsKey) + `)); } catch { return null; } })()`

// newestCardJS is a JavaScript expression for the data-seq of the newest
// card of room's column, -1 with none.
func newestCardJS(room string) string {
	return fmt.Sprintf(`(() => {
		const card = document.querySelector(%s + ' [data-testid="tweets"] > [data-testid="card"]');
		return card ? Number(card.dataset.seq) : -1;
	})()`, jsString(columnSelector(room)))
}

// lastVisitJS is a JavaScript expression for room's lastVisitMarker.
func lastVisitJS(room string) string {
	return fmt.Sprintf(`(() => {
		const list = %s.querySelector('[data-testid="tweets"]');
		const markers = list.querySelectorAll(':scope > [data-testid="gap"][data-kind="last-visit"]');
		if (markers.length === 0) return { markers: 0 };
		const items = Array.from(list.children);
		const at = items.indexOf(markers[0]);
		const seqs = (lis) => lis.filter((li) => li.dataset.testid === "card").map((li) => Number(li.dataset.seq));
		return { markers: markers.length, count: Number(markers[0].dataset.count), text: markers[0].textContent.trim(),
			above: seqs(items.slice(0, at)), below: seqs(items.slice(at + 1)) };
	})()`, columnSelectorJS(room))
}

// olderNotShown matches what the last-visit marker says of the tweets
// since the last visit that the column no longer shows.
var olderNotShown = regexp.MustCompile(`the older (\d+) no longer shown`)

func TestBrowserTheLastVisitMarkerCountsEveryTweetSinceAndOutlivesLiveTweets(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	waitRenderedCards(t, s, "golang")
	p := newPage(t, s)
	markPositionSaves(p)
	p.navigate("/?open=golang")
	waitLiveCards(p, "golang", 3)
	first := renderedColumnOf(p, "golang")
	synced := waitFor[int64](p, "the stored golang position to be the newest card's data-seq", fmt.Sprintf(`(() => {
		const stored = %s;
		const top = %s;
		return !!stored && !!stored.golang && top > %d && stored.golang.seq === top && top;
	})()`, storedPositionsJS, newestCardJS("golang"), first.Seq))

	// Leave for a page of the same origin that runs no script.
	p.navigate("/healthz")
	raw := evaluate[string](p, `localStorage.getItem(`+jsString(positionsKey)+`) || ""`)
	var positions map[string]storedPosition
	if err := json.Unmarshal([]byte(raw), &positions); err != nil {
		t.Fatalf("localStorage holds %s %q: %v", positionsKey, raw, err)
	}
	left, ok := positions["golang"]
	switch {
	case !ok || left.Seq == nil:
		t.Fatalf("%s is %s: no golang seq", positionsKey, raw)
	case left.Epoch != first.Epoch:
		t.Errorf("%s has golang's epoch %q, want %q, the column's", positionsKey, left.Epoch, first.Epoch)
	case *left.Seq < synced:
		t.Errorf("%s has golang at seq %d, before %d, stored while the page was open", positionsKey, *left.Seq, synced)
	}
	seen := *left.Seq

	// More tweets come while the reader is away than a column shows.
	const away = 60
	waitRenderedPast(t, s, "golang", seen+away)
	p.navigate("/?open=golang")
	waitColumn(p, "golang")
	back := renderedColumnOf(p, "golang")
	if back.Epoch != first.Epoch || back.Seq <= seen+away {
		t.Fatalf("the page came back rendered at epoch %q seq %d, want epoch %q past seq %d", back.Epoch, back.Seq, first.Epoch, seen+away)
	}
	since := back.Seq - seen
	// The script marks the last visit as it starts, before live tweets.
	type addedMarker struct {
		Count int64  `json:"count"`
		Text  string `json:"text"`
	}
	added := waitFor[[]addedMarker](p, "a last-visit marker added to the golang column", `(() => {
		const gaps = window.__tsProbe.gaps.filter((g) => g.room === "golang" && g.kind === "last-visit");
		return gaps.length > 0 && gaps;
	})()`)
	if len(added) != 1 {
		t.Errorf("the column came back with %d last-visit markers, want 1: %+v", len(added), added)
	}
	marker := added[0]
	if marker.Count != since {
		t.Errorf("the last-visit marker counts %d, want %d: every tweet from seq %d to %d, the column rendered at seq %d less the stored %d",
			marker.Count, since, seen+1, back.Seq, back.Seq, seen)
	}
	if !wordIn(strconv.FormatInt(since, 10), marker.Text) {
		t.Errorf("the last-visit marker says %q, without the count %d", marker.Text, since)
	}
	if older := olderNotShown.FindStringSubmatch(marker.Text); older == nil {
		t.Errorf("the last-visit marker says %q: want it to say that the older ones are no longer shown (%d new, %d shown)", marker.Text, since, cardsShown)
	} else if n, _ := strconv.ParseInt(older[1], 10, 64); n != since-cardsShown {
		t.Errorf("the last-visit marker says %q: want %d older no longer shown, %d new less the %d shown", marker.Text, since-cardsShown, since, cardsShown)
	}

	// Live tweets push the oldest cards out; the marker stays, below all
	// the cards shown, every one newer than the last visit.
	waitLiveCards(p, "golang", 2)
	m := evaluate[lastVisitMarker](p, lastVisitJS("golang"))
	if m.Markers != 1 {
		t.Fatalf("after two live tweets the column holds %d last-visit markers, want 1, still below its cards", m.Markers)
	}
	if int64(m.Count) != since || len(m.Below) != 0 || len(m.Above) != cardsShown {
		t.Errorf("after two live tweets the last-visit marker counts %d with %d cards above it and %v below: want %d, below all %d cards shown",
			m.Count, len(m.Above), m.Below, since, cardsShown)
	}
	for _, seq := range m.Above {
		if seq <= seen {
			t.Errorf("a card above the last-visit marker has data-seq %d, seen before leaving (at %d)", seq, seen)
		}
	}
}

// newTabBeside opens another tab in first's browser context, with the probe
// installed: a second tab of the same browser, sharing first's storage.
// It closes before first when the test ends.
func newTabBeside(first *browserPage) *browserPage {
	first.t.Helper()
	p := openTab(first.t, first.srv, first.ctx)
	p.base = first.base
	return p
}

func TestBrowserTwoTabsKeepEachOthersPositions(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	one := newPage(t, s)
	two := newTabBeside(one)
	// Both scripts start with nothing stored: a page without columns
	// stores no position.
	one.navigate("/")
	two.navigate("/")
	for i, p := range []*browserPage{one, two} {
		waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
		if got := evaluate[string](p, `String(localStorage.getItem(`+jsString(positionsKey)+`))`); got != "null" {
			t.Fatalf("tab %d starts with %s %s, want none", i+1, positionsKey, got)
		}
	}
	if got := evaluate[string](one, `localStorage.setItem("shared", "1"), String(localStorage.getItem("shared"))`); got != "1" {
		t.Fatalf("writing localStorage in the first tab: read back %q", got)
	}
	// Another tab's write reaches this one a moment later, and changes
	// nothing in its document: poll for it on a short interval instead.
	ctx, cancel := two.bounded(domWait + 5*time.Second)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`localStorage.getItem("shared") === "1"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(domWait)))
	cancel()
	if err != nil {
		t.Fatalf("the second tab does not share the first's storage: %v", err)
	}

	// One follows golang, the other rust, each in place.
	one.click(`[data-testid="trends"] a.trend[data-room="golang"]`)
	two.click(`[data-testid="trends"] a.trend[data-room="rust"]`)
	waitLiveCards(one, "golang", 3)
	waitLiveCards(two, "rust", 3)
	golang := evaluate[int64](one, newestCardJS("golang"))
	rust := evaluate[int64](two, newestCardJS("rust"))

	// Once each tab stored a position past those cards, both rooms are
	// there, whichever tab reads them.
	both := fmt.Sprintf(`(() => {
		const stored = %s;
		return !!stored && !!stored.golang && !!stored.rust && stored.golang.seq >= %d && stored.rust.seq >= %d && stored;
	})()`, storedPositionsJS, golang, rust)
	for i, p := range []*browserPage{one, two} {
		stored := waitFor[map[string]storedPosition](p, fmt.Sprintf("golang's position past %d and rust's past %d, read in tab %d", golang, rust, i+1), both)
		for _, room := range []string{"golang", "rust"} {
			if stored[room].Epoch == "" {
				t.Errorf("tab %d reads %s's position with no epoch: %+v", i+1, room, stored[room])
			}
		}
	}
}

// validPosition reports what is wrong with one entry of the stored
// positions, "" when it has the shape the page writes: epoch a string, seq
// an integer and at a number.
func validPosition(raw json.RawMessage) string {
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil || p == nil {
		return "not an object"
	}
	if _, ok := p["epoch"].(string); !ok {
		return "epoch is not a string"
	}
	if seq, ok := p["seq"].(float64); !ok || seq != math.Trunc(seq) {
		return "seq is not an integer"
	}
	if _, ok := p["at"].(float64); !ok {
		return "at is not a number"
	}
	return ""
}

func TestBrowserBadStoredPositionsDoNotBreakThePage(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	// Store, from a page of the origin that runs no script, more well-formed
	// positions than the page keeps, and entries of every wrong shape.
	p.navigate("/healthz")
	evaluate[bool](p, fmt.Sprintf(`(() => {
		const stored = {};
		for (let i = 0; i < %d; i++) stored["trend" + i] = { epoch: "e", seq: i + 1, at: Date.now() - 1000 * (i + 1) };
		stored.nothing = null;
		stored.list = [1, 2, 3];
		stored.word = "golang";
		stored.noepoch = { seq: 3, at: Date.now() };
		localStorage.setItem(%s, JSON.stringify(stored));
		return true;
	})()`, positionsKept+1, jsString(positionsKey)))

	p.navigate("/?open=golang,rust")
	waitLiveCards(p, "golang", 3)
	waitLiveCards(p, "rust", 3)
	p.click(columnSelector("golang") + ` [data-testid="close"]`)
	waitFor[bool](p, "the golang column to go", fmt.Sprintf(`!document.querySelector(%s)`, jsString(columnSelector("golang"))))
	if loc := evaluate[string](p, `location.pathname + location.search`); loc != "/?open=rust" {
		t.Errorf("after closing golang the address is %s, want /?open=rust", loc)
	}
	focused := evaluate[string](p, `(() => {
		const el = document.activeElement;
		if (!el || el === document.body) return "";
		return el.tagName.toLowerCase() + (el.dataset.testid ? "[data-testid=" + el.dataset.testid + "]" : "");
	})()`)
	if focused == "" {
		t.Error("after closing golang the focus is on <body>: want it on a control")
	}
	p.checkNoProblems()

	// The page goes on: more rust tweets come.
	top := evaluate[int64](p, newestCardJS("rust"))
	waitFor[bool](p, fmt.Sprintf("a rust card past data-seq %d", top+2), fmt.Sprintf(`%s > %d`, newestCardJS("rust"), top+2))

	// Closing golang saved the positions at once: only well-formed ones,
	// no more than the page keeps, rust's and not golang's.
	raw := evaluate[string](p, `String(localStorage.getItem(`+jsString(positionsKey)+`))`)
	var stored map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || stored == nil {
		t.Fatalf("after the close %s is %s, not a JSON object: %v", positionsKey, raw, err)
	}
	for room, entry := range stored {
		if what := validPosition(entry); what != "" {
			t.Errorf("after the close %s has %q: %s, %s", positionsKey, room, entry, what)
		}
	}
	if _, ok := stored["golang"]; ok {
		t.Errorf("after the close %s still has golang: closing a column forgets its position", positionsKey)
	}
	if _, ok := stored["rust"]; !ok {
		t.Errorf("after the close %s has no rust position", positionsKey)
	}
	if len(stored) > positionsKept {
		t.Errorf("after the close %s has %d positions, more than the %d the page keeps", positionsKey, len(stored), positionsKept)
	}
	t.Logf("focus after the close: %s; %d positions stored", focused, len(stored))
}
