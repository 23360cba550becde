package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// defaultAxeCore is where axe-core is on a development machine that ran
// `npm install --prefix /tmp/axe axe-core`; CI sets AXE_CORE_JS.
const defaultAxeCore = "/tmp/axe/node_modules/axe-core/axe.min.js"

// maxTabs bounds a walk through the page with the Tab key: far more stops
// than the page has with two short columns.
const maxTabs = 400

// startStaticServer serves the sample replay once, as fast as it plays, and
// waits until golang and rust have their tweets: a page loaded after that
// does not change under an audit or a walk with the keyboard.
func startStaticServer(t *testing.T) *server {
	t.Helper()
	s := start(t, nil, "-source", "replay", "-replay-file", "../../testdata/sample.jsonl", "-replay-speed", "0")
	waitRenderedCards(t, s, "golang")
	waitRenderedCards(t, s, "rust")
	return s
}

// axeViolation is one rule that axe-core found broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func TestBrowserAccessibility(t *testing.T) {
	axePath := os.Getenv("AXE_CORE_JS")
	if axePath == "" {
		axePath = defaultAxeCore
	}
	s := startStaticServer(t)

	t.Run("axe-core finds nothing serious or critical with two columns open", func(t *testing.T) {
		axe, err := os.ReadFile(axePath)
		if err != nil {
			msg := fmt.Sprintf("axe-core is needed for this test (set AXE_CORE_JS to axe.min.js): %v", err)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		p := newPage(t, s)
		p.navigate("/?open=golang,rust")
		waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
		waitFor[bool](p, "cards in both columns", `(window.__tsProbe.cards("golang") || []).length > 0 && (window.__tsProbe.cards("rust") || []).length > 0`)

		// Evaluated through CDP, so the page's Content-Security-Policy,
		// which allows only its own scripts, stays as it is.
		p.do("injecting axe-core", chromedp.Evaluate[chromedp.Void](string(axe)))
		violations := evaluate[[]axeViolation](p, `axe.run(document, { resultTypes: ["violations"] }).then((r) =>
			r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
				nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html, summary: n.failureSummary })) })))`,
			chromedp.EvalAwaitPromise)
		serious := 0
		for _, v := range violations {
			var b strings.Builder
			fmt.Fprintf(&b, "axe %s (%s): %s %s", v.ID, v.Impact, v.Help, v.URL)
			for _, n := range v.Nodes {
				fmt.Fprintf(&b, "\n\t%s: %s\n\t\t%s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n\t\t"))
			}
			if v.Impact == "serious" || v.Impact == "critical" {
				serious++
				t.Error(b.String())
			} else {
				t.Log(b.String())
			}
		}
		t.Logf("axe-core: %d violations, %d of them serious or critical", len(violations), serious)
	})

	t.Run("the keyboard alone reaches every control, opens and closes a column", func(t *testing.T) {
		p := newPage(t, s)
		p.navigate("/?open=golang,rust")
		waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
		trends := evaluate[[]string](p, `Array.from(document.querySelectorAll('[data-testid="trends"] a.trend'), (a) => a.dataset.room)`)
		if len(trends) == 0 {
			t.Fatal("the page lists no trend")
		}

		want := []string{"follow-input", "follow-submit"}
		for _, room := range trends {
			want = append(want, "trend:"+room)
		}
		for _, room := range []string{"golang", "rust"} {
			want = append(want, "pause:"+room, "close:"+room)
		}
		reached := tabThrough(p)
		for _, w := range want {
			if !slices.Contains(reached, w) {
				t.Errorf("Tab never reaches %s; it reaches, in order: %v", w, reached)
			}
		}

		// Enter on a trend that has no column yet opens it.
		var unopened string
		for _, room := range trends {
			if room != "golang" && room != "rust" {
				unopened = room
				break
			}
		}
		if unopened == "" {
			t.Fatal("every trend has a column already")
		}
		tabTo(p, "trend:"+unopened)
		p.do("pressing Enter", chromedp.KeyEvent(kb.Enter))
		waitColumn(p, unopened)

		// Enter on a column's close closes it, and the focus lands on
		// something, not on the page itself.
		tabTo(p, "close:golang")
		p.do("pressing Enter", chromedp.KeyEvent(kb.Enter))
		waitFor[bool](p, "the golang column to close", fmt.Sprintf(`!document.querySelector(%s)`, jsString(columnSelector("golang"))))
		focus := evaluate[string](p, `(() => {
			const el = document.activeElement;
			if (!el || el === document.body || el === document.documentElement) return "";
			return el.outerHTML.slice(0, 160);
		})()`)
		if focus == "" {
			t.Error("after closing a column with the keyboard the focus is on <body>: the reader has to start again from the top")
		} else {
			t.Logf("after the close the focus is on %s", focus)
		}
	})
}

// focusedControl names the focused element the way the test lists the
// controls: "trend:golang", "follow-input", "pause:rust", or its tag.
const focusedControl = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "body";
  const col = el.closest('[data-testid="column"]');
  const room = col ? col.dataset.room : "";
  if (el.matches('[data-testid="trends"] a.trend')) return "trend:" + el.dataset.room;
  if (el.matches('[data-testid="follow-form"] input[name="open"]')) return "follow-input";
  if (el.matches('[data-testid="follow-form"] button, [data-testid="follow-form"] [type="submit"]')) return "follow-submit";
  if (col && el.dataset.testid) return el.dataset.testid + ":" + room;
  return el.tagName.toLowerCase() + (room ? " in " + room : "") + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "");
})()`

// tabThrough presses Tab until the focus has gone round the page, and
// returns the controls it reached, in order.
func tabThrough(p *browserPage) []string {
	p.t.Helper()
	var reached []string
	for range maxTabs {
		p.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
		at := evaluate[string](p, focusedControl)
		if at == "body" || (len(reached) > 0 && at == reached[0]) {
			return reached
		}
		reached = append(reached, at)
	}
	p.t.Fatalf("the focus did not come round after %d presses of Tab: %v", maxTabs, reached)
	return nil
}

// tabTo presses Tab until control has the focus.
func tabTo(p *browserPage, control string) {
	p.t.Helper()
	var passed []string
	for range maxTabs {
		p.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
		at := evaluate[string](p, focusedControl)
		if at == control {
			return
		}
		passed = append(passed, at)
	}
	p.t.Fatalf("Tab did not reach %s in %d presses; it went through %v", control, maxTabs, passed)
}
