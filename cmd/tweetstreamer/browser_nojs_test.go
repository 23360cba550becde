package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// followTextInput is the follow box's text field alone: with columns open,
// the form also carries them in a hidden field of the same name.
const followTextInput = followInput + `:not([type="hidden"])`

// newScriptlessPage opens a tab, as newPage does, in which the page's own
// scripts do not run, as in a browser with JavaScript turned off. The
// probe, injected through CDP, still runs, and so do the tests' evaluations.
func newScriptlessPage(t *testing.T, s *server) *browserPage {
	t.Helper()
	p := newPage(t, s)
	p.do("turning scripts off", chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	return p
}

// loadBy runs steps, one of which makes the tab load a page (a link
// followed, a form submitted), and waits for that page's load event. It
// fails the test unless the page answered 200.
func loadBy(p *browserPage, what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.bounded(domWait)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil || resp.Status != http.StatusOK {
		p.t.Fatalf("%s: the page answered %v, want 200", what, resp)
	}
	if evaluate[bool](p, `document.documentElement.classList.contains("js")`) {
		p.t.Fatalf("%s: <html> has class js: the page's script ran", what)
	}
}

// clickToLoad clicks the element selected and waits for the page it loads.
func clickToLoad(p *browserPage, selector string) {
	p.t.Helper()
	loadBy(p, "clicking "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// renderedColumnCards is one column of the page and how many cards it holds.
type renderedColumnCards struct {
	Room  string `json:"room"`
	Cards int    `json:"cards"`
}

// pageColumns returns the page's columns in order.
func pageColumns(p *browserPage) []renderedColumnCards {
	p.t.Helper()
	return evaluate[[]renderedColumnCards](p, `Array.from(document.querySelectorAll('[data-testid="columns"] > [data-testid="column"]'), (c) =>
		({ room: c.dataset.room, cards: c.querySelectorAll('[data-testid="tweets"] > [data-testid="card"]').length }))`)
}

func columnRooms(cols []renderedColumnCards) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Room
	}
	return out
}

// openInAddress returns the rooms the page's address opens, in order: the
// values of every open parameter, split at commas, as the server reads them.
func openInAddress(p *browserPage) []string {
	p.t.Helper()
	return evaluate[[]string](p, `new URLSearchParams(location.search).getAll("open").flatMap((v) => v.split(",")).filter((r) => r.trim() !== "")`)
}

// checkColumnOfRecentTweets fails unless the page shows exactly the columns
// want, in that order, and room's column holds cards about room, each with
// its data-seq.
func checkColumnOfRecentTweets(t *testing.T, p *browserPage, room string, want []string) {
	t.Helper()
	cols := pageColumns(p)
	if got := columnRooms(cols); !slices.Equal(got, want) {
		t.Errorf("the page shows the columns %v, want %v", got, want)
	}
	cards := columnCards(p, room)
	if len(cards) == 0 {
		t.Errorf("the %s column holds no card: want its recent tweets, rendered by the server", room)
	}
	word := strings.TrimPrefix(room, "#")
	for _, c := range cards {
		if !wordIn(word, c.Text) {
			t.Errorf("a card in the %s column does not mention %s: %q", room, word, c.Text)
		}
		if c.Seq == nil {
			t.Errorf("a card in the %s column has no data-seq: %s/%s", room, c.Source, c.ID)
		}
	}
}

// waitTrendingTag waits until the server's page lists tag in "trending
// now": the list is counted again every few seconds.
func waitTrendingTag(t *testing.T, s *server, tag string) {
	t.Helper()
	deadline := time.Now().Add(domWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.page(t, "/").Find(fmt.Sprintf(`[data-testid="trending-tag"][data-room=%s]`, jsString(tag))).Length() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not list %s in trending now within %v", tag, domWait)
		}
		<-tick.C
	}
}

func TestBrowserWithoutJavaScript(t *testing.T) {
	// The sample replay, played at once and never again: the page does not
	// change while it is walked through, and its hashtags fill "trending
	// now", which the mock leaves empty.
	s := startStaticServer(t)
	waitTrendingTag(t, s, "webdev")

	t.Run("every trend link loads the page with that trend's column of recent tweets", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/")
		trends := evaluate[[]string](p, `Array.from(document.querySelectorAll('[data-testid="trends"] a.trend'), (a) => a.dataset.room)`)
		if len(trends) == 0 {
			t.Fatal("the page lists no trend")
		}
		for _, room := range trends {
			p.navigate("/")
			clickToLoad(p, fmt.Sprintf(`[data-testid="trends"] a.trend[data-room=%s]`, jsString(room)))
			if got := openInAddress(p); !slices.Equal(got, []string{room}) {
				t.Errorf("the %s link loads a page that opens %v, want [%s]", room, got, room)
			}
			checkColumnOfRecentTweets(t, p, room, []string{room})
		}
	})

	t.Run("a second trend link keeps the first column and adds its own", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/")
		clickToLoad(p, `[data-testid="trends"] a.trend[data-room="golang"]`)
		clickToLoad(p, `[data-testid="trends"] a.trend[data-room="rust"]`)
		if got := openInAddress(p); !slices.Equal(got, []string{"golang", "rust"}) {
			t.Errorf("the address opens %v, want [golang rust]", got)
		}
		checkColumnOfRecentTweets(t, p, "golang", []string{"golang", "rust"})
		checkColumnOfRecentTweets(t, p, "rust", []string{"golang", "rust"})
		// The open trend's own link keeps the page as it is.
		clickToLoad(p, `[data-testid="trends"] a.trend[data-room="golang"]`)
		if got := columnRooms(pageColumns(p)); !slices.Equal(got, []string{"golang", "rust"}) {
			t.Errorf("following the link of a trend already open leaves the columns %v, want [golang rust]", got)
		}
	})

	t.Run("a column's close link removes only that column", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/?open=golang,rust,space")
		if got := columnRooms(pageColumns(p)); !slices.Equal(got, []string{"golang", "rust", "space"}) {
			t.Fatalf("the page shows %v, want [golang rust space]", got)
		}
		clickToLoad(p, columnSelector("rust")+` [data-testid="close"]`)
		if got := openInAddress(p); !slices.Equal(got, []string{"golang", "space"}) {
			t.Errorf("after closing rust the address opens %v, want [golang space]", got)
		}
		checkColumnOfRecentTweets(t, p, "golang", []string{"golang", "space"})
		checkColumnOfRecentTweets(t, p, "space", []string{"golang", "space"})
	})

	t.Run("the follow box adds a column and keeps the others", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/?open=golang")
		p.do("typing in the follow box", chromedp.Focus(chromedp.CSS(followTextInput), chromedp.NodeVisible), chromedp.KeyEvent("Space"))
		loadBy(p, "pressing Enter in the follow box", chromedp.KeyEvent(kb.Enter))
		if got := openInAddress(p); !slices.Equal(got, []string{"golang", "Space"}) {
			t.Errorf("the follow box loads a page that opens %v, want [golang Space]", got)
		}
		checkColumnOfRecentTweets(t, p, "golang", []string{"golang", "space"})
		checkColumnOfRecentTweets(t, p, "space", []string{"golang", "space"})
		if hidden := evaluate[bool](p, `document.querySelector('[data-testid="follow-error"]').hidden`); !hidden {
			t.Error("a trend followed without trouble shows the follow box's error")
		}
	})

	t.Run("a follow with no word shows the refusal beside the box and keeps the columns", func(t *testing.T) {
		resp, refusal := s.get(t, "/column?room=%21%21%21")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("GET /column?room=!!! answered %s, want 400", resp.Status)
		}
		refusal = strings.TrimSpace(refusal)
		p := newScriptlessPage(t, s)
		p.navigate("/?open=golang")
		p.do("typing in the follow box", chromedp.Focus(chromedp.CSS(followTextInput), chromedp.NodeVisible), chromedp.KeyEvent("!!!"))
		loadBy(p, "pressing Enter in the follow box", chromedp.KeyEvent(kb.Enter))
		text := evaluate[string](p, `(() => {
			const el = document.querySelector('[data-testid="follow-error"]');
			return el && !el.hidden && el.getClientRects().length > 0 ? el.textContent.trim() : "";
		})()`)
		if text == "" || !strings.Contains(text, refusal) {
			t.Errorf("[data-testid=follow-error] shows %q, want the server's refusal %q", text, refusal)
		}
		checkColumnOfRecentTweets(t, p, "golang", []string{"golang"})
	})

	t.Run("the pause, jump to live and held controls are not shown", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/?open=golang,rust")
		if evaluate[bool](p, `document.documentElement.classList.contains("js")`) {
			t.Fatal("<html> has class js without the script")
		}
		type shown struct {
			Room    string `json:"room"`
			Control string `json:"control"`
			Present bool   `json:"present"`
			Shown   bool   `json:"shown"`
		}
		controls := evaluate[[]shown](p, `Array.from(document.querySelectorAll('[data-testid="column"]')).flatMap((col) =>
			["pause", "jump-live", "held", "close"].map((id) => {
				const el = col.querySelector('[data-testid="' + id + '"]');
				return { room: col.dataset.room, control: id, present: !!el,
					shown: !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden" };
			}))`)
		if len(controls) != 8 {
			t.Fatalf("found %d column controls, want 4 in each of 2 columns: %v", len(controls), controls)
		}
		for _, c := range controls {
			switch {
			case !c.Present:
				t.Errorf("the %s column has no [data-testid=%s]", c.Room, c.Control)
			case c.Control == "close" && !c.Shown:
				t.Errorf("the %s column's close link is not shown: without the script it is how a column goes", c.Room)
			case c.Control != "close" && c.Shown:
				t.Errorf("the %s column shows [data-testid=%s], which needs the script", c.Room, c.Control)
			}
		}
	})

	t.Run("the projector toggle turns large text on and off and keeps the columns", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/?open=golang,rust")
		if evaluate[bool](p, `document.documentElement.classList.contains("big")`) {
			t.Fatal("projector mode is on before the toggle")
		}
		clickToLoad(p, `[data-testid="big-toggle"]`)
		if !evaluate[bool](p, `document.documentElement.classList.contains("big")`) {
			t.Error("the projector toggle did not turn on <html class=big>")
		}
		if got := evaluate[string](p, `document.querySelector('[data-testid="big-toggle"]').getAttribute("aria-pressed")`); got != "true" {
			t.Errorf("in projector mode the toggle has aria-pressed %q, want true", got)
		}
		if got := evaluate[string](p, `new URLSearchParams(location.search).get("big")`); got != "1" {
			t.Errorf("in projector mode the address has big=%q, want 1", got)
		}
		checkColumnOfRecentTweets(t, p, "golang", []string{"golang", "rust"})
		if got := openInAddress(p); !slices.Equal(got, []string{"golang", "rust"}) {
			t.Errorf("in projector mode the address opens %v, want [golang rust]", got)
		}
		// Links keep the mode: a trend added now opens in it too.
		clickToLoad(p, `[data-testid="trends"] a.trend[data-room="space"]`)
		if !evaluate[bool](p, `document.documentElement.classList.contains("big")`) {
			t.Error("a trend link followed in projector mode loads a page without it")
		}
		clickToLoad(p, `[data-testid="big-toggle"]`)
		if evaluate[bool](p, `document.documentElement.classList.contains("big")`) {
			t.Error("the projector toggle, pressed again, did not turn projector mode off")
		}
		if got := columnRooms(pageColumns(p)); !slices.Equal(got, []string{"golang", "rust", "space"}) {
			t.Errorf("after turning projector mode off the page shows %v, want [golang rust space]", got)
		}
	})

	t.Run("every trending now tag loads the page with a column of that tag's recent tweets", func(t *testing.T) {
		p := newScriptlessPage(t, s)
		p.navigate("/")
		tags := evaluate[[]string](p, `Array.from(document.querySelectorAll('[data-testid="trending-tag"]'), (b) => b.dataset.room)`)
		trends := evaluate[[]string](p, `Array.from(document.querySelectorAll('[data-testid="trends"] a.trend'), (a) => a.dataset.room)`)
		if len(tags) == 0 {
			t.Fatal("the page lists no trending tag")
		}
		t.Logf("trending now: %v; trends: %v", tags, trends)
		for _, tag := range tags {
			p.navigate("/")
			clickToLoad(p, fmt.Sprintf(`[data-testid="trending-tag"][data-room=%s]`, jsString(tag)))
			cols := pageColumns(p)
			if got := openInAddress(p); len(got) != 1 || strings.TrimPrefix(got[0], "#") != tag {
				t.Errorf("the trending tag %s loads a page that opens %v, want the tag's column alone", tag, got)
			}
			if len(cols) != 1 || strings.TrimPrefix(cols[0].Room, "#") != tag {
				t.Errorf("the trending tag %s loads a page with the columns %v, want that tag's column alone", tag, columnRooms(cols))
				continue
			}
			// The script opens a listed trend of the tag's name, with or
			// without its "#" (openTag in assets/app.js): that room holds
			// the tag's tweets. A tag no trend names has no room until a
			// live join creates one, so its column starts empty.
			listed := slices.Contains(trends, tag) || slices.Contains(trends, "#"+tag)
			if !listed {
				t.Logf("%s names no listed trend: its column is %s, with %d cards", tag, cols[0].Room, cols[0].Cards)
				continue
			}
			if cols[0].Cards == 0 {
				listedAs := tag
				if !slices.Contains(trends, tag) {
					listedAs = "#" + tag
				}
				t.Errorf("the trending tag %s loads an empty %s column; the trend list has it as %s, whose room holds its tweets (the script opens that one)",
					tag, cols[0].Room, listedAs)
				continue
			}
			checkColumnOfRecentTweets(t, p, cols[0].Room, []string{cols[0].Room})
		}
	})
}
