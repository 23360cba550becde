package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the real page, served by the real server, in
// headless Chromium: one browser for the whole test binary, and a fresh
// browser context (its own storage, cookies and cache) for each test.

const (
	// browserStartTimeout bounds the start of Chromium and of each tab; a
	// machine that needs longer has a broken install, not a slow one.
	browserStartTimeout = 60 * time.Second
	// domWait bounds every wait for a condition in the page. At the tests'
	// mock rates a column gets tweets many times a second, so a condition
	// not met in this long will not be met.
	domWait = 20 * time.Second
	// artifactWait bounds the collection of a failed test's screenshot and
	// document, so that a hung page cannot hang the report.
	artifactWait = 10 * time.Second
	// browserStopTimeout bounds Chromium's graceful close at the end; what
	// is left then is killed.
	browserStopTimeout = 10 * time.Second
	// failureDir is where a failed browser test leaves its screenshot,
	// console and WebSocket frames, one folder per test (ignored by git).
	failureDir = "testdata/browser-failures"
)

// browserNames are the executables tried, in order, on the PATH.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// theBrowser is the one Chromium of this test binary, started by the first
// browser test and stopped by TestMain after every test has run.
var theBrowser struct {
	once sync.Once
	ctx  context.Context // the browser's root chromedp context
	err  error
	stop func() // closes Chromium, waits for it and removes its profile
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theBrowser.stop != nil {
		theBrowser.stop()
	}
	os.Exit(code)
}

// browserContext returns the root context of the shared Chromium, starting
// it on first use. Without a browser on the PATH the test is skipped, or
// fails when CI is set: CI must run these tests, not skip them.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := fmt.Sprintf("no browser for the browser tests: none of %s is on the PATH (apt-get install chromium)", strings.Join(browserNames, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	theBrowser.once.Do(func() {
		theBrowser.ctx, theBrowser.stop, theBrowser.err = launchBrowser(path)
	})
	if theBrowser.err != nil {
		t.Fatalf("starting %s: %v", path, theBrowser.err)
	}
	return theBrowser.ctx
}

// launchBrowser starts Chromium with chromedp's defaults (headless,
// --disable-dev-shm-usage, --no-sandbox as root), a profile of its own and
// nothing that reaches for the network, which this machine may not have.
func launchBrowser(path string) (context.Context, func(), error) {
	profile, err := os.MkdirTemp("", "tweetstreamer-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() {
		cctx, ccancel := context.WithTimeout(ctx, browserStopTimeout)
		_ = chromedp.Cancel(cctx) // a graceful close; the cancels below kill what is left
		ccancel()
		cancel()
		cancelAlloc() // waits for the process
		_ = os.RemoveAll(profile)
	}
	// The first Do starts the browser and ties its life to ctx, so it must
	// not get a deadline of its own: a timer cancels it instead.
	if err := doWithin(ctx, cancel, browserStartTimeout); err != nil {
		stop()
		return nil, nil, err
	}
	return ctx, stop, nil
}

// doWithin runs the first chromedp.Do of ctx, which opens its browser or
// tab for as long as ctx lives, and cancels ctx if that takes longer than d.
func doWithin(ctx context.Context, cancel context.CancelFunc, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx, steps...) }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		cancel()
		<-done
		return fmt.Errorf("not ready within %v", d)
	}
}

// browserPage is one tab in a browser context of its own, with everything it
// reported: console calls, exceptions, log entries, dialogs, CSP violations
// and every WebSocket frame it sent or received.
type browserPage struct {
	t    *testing.T
	ctx  context.Context // the tab's chromedp context; actions derive bounded contexts from it
	srv  *server
	base string // where the page is loaded from: the server, or a proxy in front of it

	dialogOpened chan struct{} // a dialog waits to be dismissed
	wg           sync.WaitGroup

	mu         sync.Mutex
	console    []string // every console call, exception and log entry, for the failure report
	problems   []string // console errors and uncaught exceptions: page code must produce none
	reported   int      // problems already reported as test errors
	dialogs    []string // JavaScript dialogs that opened: an injected script ran
	violations []string // Content-Security-Policy violations
	msgs       []wsMessage
	// extensions lists, for each WebSocket the page opened, the
	// extensions the server's answer accepted.
	extensions []string
	frames     int           // WebSocket frames so far
	changed    chan struct{} // closed and replaced whenever msgs grows
}

// wsMessage is one message of a WebSocket frame, as the page sent or received
// it: the fields of the protocol the tests look at.
type wsMessage struct {
	Sent   bool   `json:"-"` // page to server
	Socket string `json:"-"` // the CDP request ID: a new one per connection
	Frame  int    `json:"-"` // the frame's number, counting every frame of the page

	Type      string   `json:"type"`
	Room      string   `json:"room"`
	Seq       int64    `json:"seq"`
	Epoch     string   `json:"epoch"`
	Since     *int64   `json:"since"`
	Recovered *bool    `json:"recovered"`
	Matched   []string `json:"matched"`
	Count     int64    `json:"count"`
	FromSeq   int64    `json:"from_seq"`
	ToSeq     int64    `json:"to_seq"`
	Held      *int64   `json:"held"` // stats to a paused member: what it holds back
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	HTML      *string  `json:"html"`
	// Tweet is the tweet object, which the page's lean messages leave out.
	Tweet json.RawMessage `json:"tweet"`
}

// reportBinding is the page function, added through CDP, by which the probe
// reports what only the page sees (CSP violations).
const reportBinding = "__tsReport"

// probeScript runs in every document before the page's own script, injected
// through CDP so the page's Content-Security-Policy does not apply to it. It
// reports CSP violations through the binding and records, in
// window.__tsProbe, what a test cannot catch by polling afterwards: every
// state the connection indicator went through, every gap marker added (a
// column keeps only its newest cards), and for each column the
// data-epoch and data-seq the server rendered it with, and when its first
// live card (data-seq past the rendered one) was added and painted.
const probeScript = `(() => {
  const report = window.` + reportBinding + `;
  const probe = { conn: [], columns: {}, gaps: [] };
  Object.defineProperty(window, "__tsProbe", { value: probe });
  document.addEventListener("securitypolicyviolation", (e) => {
    if (typeof report !== "function") return;
    report(JSON.stringify({ directive: e.violatedDirective, blocked: e.blockedURI,
      source: e.sourceFile, line: e.lineNumber, sample: e.sample }));
  }, true);
  const columnOf = (node) => node instanceof Element ? node.closest('[data-testid="column"]') : null;
  const column = (room) => Array.from(document.querySelectorAll('[data-testid="column"]')).find((c) => c.dataset.room === room);
  // cards lists a column's cards in document order (newest first).
  probe.cards = (room) => {
    const col = column(room);
    if (!col) return null;
    return Array.from(col.querySelectorAll('[data-testid="card"]'), (li) => ({
      seq: li.dataset.seq === undefined ? null : Number(li.dataset.seq),
      id: li.dataset.id, source: li.dataset.source, text: li.innerText,
    }));
  };
  // live counts a column's cards with a data-seq past the rendered one.
  probe.live = (room) => {
    const col = column(room);
    const rec = probe.columns[room];
    if (!col || !rec) return 0;
    return Array.from(col.querySelectorAll('[data-testid="card"][data-seq]'))
      .filter((li) => Number(li.dataset.seq) > rec.seq).length;
  };
  const noteColumn = (el) => {
    probe.columns[el.dataset.room] = { seq: Number(el.dataset.seq), epoch: el.dataset.epoch || "",
      at: performance.now(), firstLive: null, firstLivePainted: null };
  };
  // A card or a gap marker may be gone by the time the observer runs (the
  // column keeps only its newest cards), so its column is that of the list
  // it was added to.
  const noteCard = (li, list) => {
    const col = columnOf(list);
    const rec = col && probe.columns[col.dataset.room];
    if (rec && rec.firstLive === null && li.dataset.seq !== undefined && Number(li.dataset.seq) > rec.seq) {
      rec.firstLive = performance.now();
      // The frame that shows it is painted after this callback: a task
      // queued from it runs once that frame is out.
      requestAnimationFrame(() => setTimeout(() => { rec.firstLivePainted = performance.now(); }));
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") {
        if (r.target.dataset && r.target.dataset.testid === "conn-state") {
          probe.conn.push(r.target.dataset.state);
        }
        continue;
      }
      for (const node of r.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.dataset.testid === "column") noteColumn(node);
        else if (node.dataset.testid === "card") noteCard(node, r.target);
        else if (node.dataset.testid === "gap") {
          const col = columnOf(r.target);
          probe.gaps.push({ room: col ? col.dataset.room : "", kind: node.dataset.kind,
            count: Number(node.dataset.count), text: node.textContent.trim() });
        }
        else if (node.dataset.testid === "conn-state") probe.conn.push(node.dataset.state);
      }
    }
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
})();`

// newPage opens a tab in a new browser context of the shared browser, with
// the probe installed, for pages of s. When the test fails, its cleanup
// saves a screenshot, the document, the console and the WebSocket frames
// under failureDir before it closes the tab.
func newPage(t *testing.T, s *server) *browserPage {
	t.Helper()
	return openTab(t, s, browserContext(t), chromedp.WithNewBrowserContext())
}

// openTab opens a tab under parent (the browser, or another tab, whose
// browser context it then shares) for pages of s; see newPage.
func openTab(t *testing.T, s *server, parent context.Context, opts ...chromedp.ContextOption) *browserPage {
	t.Helper()
	p := &browserPage{
		t:            t,
		srv:          s,
		base:         s.url,
		dialogOpened: make(chan struct{}, 16),
		changed:      make(chan struct{}),
	}
	ctx, cancel := chromedp.NewContext(parent, append(opts, chromedp.WithListener(p.listen))...)
	p.ctx = ctx
	err := doWithin(ctx, cancel, browserStartTimeout,
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tgt, runtime.AddBinding, runtime.AddBindingParams{Name: reportBinding}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probeScript})
			return err
		}),
		chromedp.EmulateViewport(1280, 900),
	)
	if err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	// A dialog blocks the page until it is answered; this goroutine answers
	// each one (the listener may not send commands) until the tab closes.
	p.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.dialogOpened:
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	})
	t.Cleanup(func() {
		p.checkNoProblems()
		if t.Failed() {
			p.saveFailure()
		}
		cancel() // closes the tab, and a browser context of its own
		p.wg.Wait()
	})
	return p
}

// listen records the tab's events. It runs in the loop that reads the tab's
// messages, so it only stores and signals.
func (p *browserPage) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		line := fmt.Sprintf("console.%s: %s%s", ev.Type, remoteObjectsText(ev.Args), stackPlace(ev.StackTrace))
		p.mu.Lock()
		p.console = append(p.console, line)
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.problems = append(p.problems, line)
		}
		p.mu.Unlock()
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		line := fmt.Sprintf("exception: %s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		p.mu.Lock()
		p.console = append(p.console, line)
		p.problems = append(p.problems, line)
		p.mu.Unlock()
	case *log.EventEntryAdded:
		e := ev.Entry
		line := fmt.Sprintf("log %s/%s: %s %s", e.Source, e.Level, e.Text, e.URL)
		p.mu.Lock()
		p.console = append(p.console, line)
		if e.Source == log.EntrySourceSecurity {
			p.violations = append(p.violations, line)
		}
		p.mu.Unlock()
	case *page.EventJavascriptDialogOpening:
		p.mu.Lock()
		p.dialogs = append(p.dialogs, fmt.Sprintf("%s: %q", ev.Type, ev.Message))
		p.mu.Unlock()
		select {
		case p.dialogOpened <- struct{}{}:
		default:
		}
	case *runtime.EventBindingCalled:
		if ev.Name == reportBinding {
			p.mu.Lock()
			p.violations = append(p.violations, "securitypolicyviolation: "+ev.Payload)
			p.mu.Unlock()
		}
	case *network.EventWebSocketHandshakeResponseReceived:
		if ev.Response != nil {
			ext := ""
			for k, v := range ev.Response.Headers {
				if strings.EqualFold(k, "Sec-WebSocket-Extensions") {
					ext = fmt.Sprint(v)
				}
			}
			p.mu.Lock()
			p.extensions = append(p.extensions, ext)
			p.mu.Unlock()
		}
	case *network.EventWebSocketFrameReceived:
		p.addFrame(false, string(ev.RequestID), ev.Response)
	case *network.EventWebSocketFrameSent:
		p.addFrame(true, string(ev.RequestID), ev.Response)
	}
}

func (p *browserPage) addFrame(sent bool, socket string, f *network.WebSocketFrame) {
	if f == nil || f.Opcode != 1 { // text frames only
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames++
	frame := p.frames
	for line := range strings.SplitSeq(string(f.PayloadData), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := wsMessage{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			m.Type = "(not JSON)"
			m.Message = line
		}
		m.Sent, m.Socket, m.Frame = sent, socket, frame
		p.msgs = append(p.msgs, m)
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

func remoteObjectsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func stackPlace(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d:%d)", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}

// socketExtensions returns what the server's answer accepted for each
// WebSocket the page opened so far.
func (p *browserPage) socketExtensions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.extensions)
}

// messages returns a copy of the WebSocket messages so far.
func (p *browserPage) messages() []wsMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]wsMessage(nil), p.msgs...)
}

// waitMessages waits until cond holds for the WebSocket messages so far,
// and returns them.
func (p *browserPage) waitMessages(what string, cond func([]wsMessage) bool) []wsMessage {
	p.t.Helper()
	timer := time.NewTimer(domWait)
	defer timer.Stop()
	for {
		p.mu.Lock()
		msgs, changed := p.msgs, p.changed
		ok := cond(msgs)
		p.mu.Unlock()
		if ok {
			return append([]wsMessage(nil), msgs...)
		}
		select {
		case <-changed:
		case <-timer.C:
			p.t.Fatalf("waited %v for %s over the WebSocket; it did not happen", domWait, what)
		case <-p.ctx.Done():
			p.t.Fatalf("waiting for %s: the tab closed: %v", what, p.ctx.Err())
		}
	}
}

// checkNoProblems fails the test for each console error and uncaught
// exception not reported yet: the page's code must produce none, whatever
// the test does. Every browser test checks this when its page closes.
func (p *browserPage) checkNoProblems() {
	p.t.Helper()
	p.mu.Lock()
	problems := p.problems[p.reported:]
	p.reported = len(p.problems)
	p.mu.Unlock()
	for _, line := range problems {
		p.t.Errorf("the page logged an error: %s", line)
	}
}

// bounded returns a context for one step, cancelled after d at the latest.
func (p *browserPage) bounded(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, d)
}

// do runs steps in the tab within domWait.
func (p *browserPage) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.bounded(domWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads path (with its query) from the page's base URL and waits
// for the load event.
func (p *browserPage) navigate(path string) {
	p.t.Helper()
	p.do("loading "+path, chromedp.Navigate(p.base+path))
}

// click clicks the first element that matches the CSS selector, once it is
// visible.
func (p *browserPage) click(selector string) {
	p.t.Helper()
	p.do("clicking "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// evaluate returns the value of a JavaScript expression in the page.
func evaluate[T any](p *browserPage, expr string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	ctx, cancel := p.bounded(domWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is truthy, evaluating it at
// every change of the document, and returns its value. what says, for the
// failure message, what the test was waiting for.
func waitFor[T any](p *browserPage, what, expr string) T {
	p.t.Helper()
	ctx, cancel := p.bounded(domWait + 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(domWait)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			p.t.Fatalf("waited %v for %s; it did not happen (condition: %s)", domWait, what, expr)
		}
		p.t.Fatalf("waiting for %s: %v", what, err)
	}
	return v
}

// saveFailure writes what a failed test's page looked like and said.
func (p *browserPage) saveFailure() {
	dir := filepath.Join(failureDir, safeFileName(p.t.Name()))
	if err := os.RemoveAll(dir); err != nil {
		p.t.Logf("browser artifacts: %v", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("browser artifacts: %v", err)
		return
	}
	ctx, cancel := p.bounded(artifactWait)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), png, 0o644)
	} else {
		p.t.Logf("browser artifacts: no screenshot: %v", err)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "page.html"), []byte(html), 0o644)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		p.mu.Lock()
		p.console = append(p.console, "location at failure: "+loc)
		p.mu.Unlock()
	}
	p.mu.Lock()
	var console strings.Builder
	for _, groups := range [][]string{p.console, {"", "-- problems --"}, p.problems, {"", "-- dialogs --"}, p.dialogs, {"", "-- CSP violations --"}, p.violations} {
		for _, line := range groups {
			console.WriteString(line + "\n")
		}
	}
	var frames strings.Builder
	for _, m := range p.msgs {
		dir := "<-"
		if m.Sent {
			dir = "->"
		}
		fmt.Fprintf(&frames, "%s socket=%s frame=%d type=%s room=%s seq=%d", dir, m.Socket, m.Frame, m.Type, m.Room, m.Seq)
		if m.Since != nil {
			fmt.Fprintf(&frames, " since=%d", *m.Since)
		}
		if m.Recovered != nil {
			fmt.Fprintf(&frames, " recovered=%t", *m.Recovered)
		}
		if m.Type == "skipped" {
			fmt.Fprintf(&frames, " from=%d to=%d count=%d", m.FromSeq, m.ToSeq, m.Count)
		}
		if m.Code != "" || m.Message != "" {
			fmt.Fprintf(&frames, " code=%s message=%q", m.Code, m.Message)
		}
		frames.WriteString("\n")
	}
	p.mu.Unlock()
	_ = os.WriteFile(filepath.Join(dir, "console.txt"), []byte(console.String()), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "websocket.txt"), []byte(frames.String()), 0o644)
	if p.srv != nil {
		_ = os.WriteFile(filepath.Join(dir, "server.log"), []byte(p.srv.logs.String()), 0o644)
	}
	abs, _ := filepath.Abs(dir)
	p.t.Logf("browser artifacts of this failure: %s", abs)
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeFileName(name string) string {
	return unsafeFileChars.ReplaceAllString(name, "_")
}

// columnMembers matches the member count in a server-rendered column.
var columnMembers = regexp.MustCompile(`data-testid="column-members"[^>]*>\s*(\d+)\s*<`)

// roomMembers asks the server how many connections are in room, from the
// column fragment it renders for it.
func roomMembers(t *testing.T, s *server, room string) int {
	t.Helper()
	resp, body := s.get(t, "/column?room="+url.QueryEscape(room))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /column?room=%s: %s: %s", room, resp.Status, body)
	}
	m := columnMembers.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET /column?room=%s: no [data-testid=column-members] in %s", room, body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitRoomMembers waits until the server counts want connections in room.
func waitRoomMembers(t *testing.T, s *server, room string, want int) {
	t.Helper()
	deadline := time.Now().Add(domWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got := roomMembers(t, s, room)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server counts %d members in %s after %v, want %d", got, room, domWait, want)
		}
		<-tick.C
	}
}

func TestBrowserEachTestHasItsOwnStorage(t *testing.T) {
	s := start(t, nil, "-mock-rate", "1")
	first := newPage(t, s)
	first.navigate("/")
	evaluate[chromedp.Void](first, `localStorage.setItem("left-by-another-test", "1"); document.cookie = "another=1"`)

	second := newPage(t, s)
	second.navigate("/")
	if got := evaluate[string](second, `String(localStorage.getItem("left-by-another-test")) + " " + document.cookie`); got != "null " {
		t.Errorf("a new page sees another page's storage and cookies: %q", got)
	}
}
