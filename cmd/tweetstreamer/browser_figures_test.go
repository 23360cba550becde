package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// screenshotDir turns on TestBrowserScreenshots, which writes the README's
// screenshots there:
//
//	go test ./cmd/tweetstreamer -run BrowserScreenshots -screenshots=docs
var screenshotDir = flag.String("screenshots", "", "write the page's screenshots to this `dir` (TestBrowserScreenshots)")

// resourceEntry is one entry of the page's performance timeline.
type resourceEntry struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"` // navigation, script, link, fetch...
	Transfer  float64 `json:"transferSize"`
	Encoded   float64 `json:"encodedBodySize"`
	Decoded   float64 `json:"decodedBodySize"`
	StartTime float64 `json:"startTime"`
}

// TestBrowserFigures logs, without asserting them, how soon a column opened
// from the address paints its first live tweet and what the page weighs.
func TestBrowserFigures(t *testing.T) {
	s := start(t, nil) // the mock at its default rate, as a visitor sees it
	waitRenderedCards(t, s, "golang")
	p := newPage(t, s)
	p.navigate("/?open=golang")

	// The probe notes the time (performance.now(), from the navigation's
	// start) of the first card with a data-seq past the rendered column's,
	// then of the frame after it, when it is on screen.
	painted := waitFor[float64](p, "the first live tweet in the golang column", `(() => {
		const rec = window.__tsProbe.columns.golang;
		return rec && rec.firstLivePainted;
	})()`)
	t.Logf("first live tweet painted %.0f ms after the navigation started (mock at its default rate: about one golang tweet a second)", painted)
	// Before it, the server-rendered backlog is on the first paint; after
	// the join, the first live tweet waits only for the source.
	firstPaint := evaluate[float64](p, `(() => {
		const e = performance.getEntriesByName("first-contentful-paint")[0];
		return e ? e.startTime : -1;
	})()`)
	t.Logf("first contentful paint, the rendered backlog in view: %.0f ms", firstPaint)

	entries := evaluate[[]resourceEntry](p, `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
		.map((e) => ({ name: e.name, type: e.entryType === "navigation" ? "navigation" : e.initiatorType,
			transferSize: e.transferSize, encodedBodySize: e.encodedBodySize, decodedBodySize: e.decodedBodySize, startTime: e.startTime }))`)
	var sum [3]float64
	for _, e := range entries {
		kind := ""
		switch {
		case e.Type == "navigation":
			kind = "HTML"
		case strings.HasSuffix(e.Name, ".js"):
			kind = "JS"
		case strings.HasSuffix(e.Name, ".css"):
			kind = "CSS"
		default:
			continue
		}
		t.Logf("%-4s %-40s transfer %6.0f B, encoded %6.0f B, decoded %6.0f B", kind, strings.TrimPrefix(e.Name, s.url), e.Transfer, e.Encoded, e.Decoded)
		sum[0] += e.Transfer
		sum[1] += e.Encoded
		sum[2] += e.Decoded
	}
	t.Logf("HTML + JS + CSS: transfer %.0f B, encoded %.0f B, decoded %.0f B", sum[0], sum[1], sum[2])
}

// TestBrowserScreenshots takes the page at 1440x900 with three columns
// open, in the normal and in the projector mode: into -screenshots when
// given (the README's pictures: -screenshots=../../docs), else into a
// temporary folder, so that the pictures can always be taken.
func TestBrowserScreenshots(t *testing.T) {
	dir := *screenshotDir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := start(t, nil, "-mock-rate", "40")
	rooms := []string{"golang", "rust", "ai"}
	for _, room := range rooms {
		waitRenderedCount(t, s, room, 12) // columns full to the bottom
	}
	p := newPage(t, s)
	for _, shot := range []struct{ file, query string }{
		{"screenshot.png", ""},
		{"screenshot-projector.png", "&big=1"},
	} {
		p.do("sizing the window", chromedp.EmulateViewport(1440, 900))
		p.navigate("/?open=" + strings.Join(rooms, ",") + shot.query)
		waitFor[bool](p, "the page to be live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
		for _, room := range rooms {
			waitLiveCards(p, room, 2)
		}
		// The counts come with the first stats, a few seconds in: a
		// screenshot with "0/min" everywhere would not show a live page.
		waitFor[bool](p, "every column's rate", `Array.from(document.querySelectorAll('[data-testid="column-rate"]')).every((el) => el.textContent.trim() !== "0")`)
		waitFor[bool](p, "the trend list counting the page in each open room", fmt.Sprintf(`%s.every((room) => {
			const el = document.querySelector('[data-testid="trend"][data-room="' + room + '"] [data-testid="trend-members"]');
			return el && el.textContent.trim() === "1";
		})`, jsArray(rooms)))
		if shot.query != "" && !evaluate[bool](p, `document.documentElement.classList.contains("big")`) {
			t.Errorf("%s: ?big=1 did not render <html class=big>", shot.file)
		}
		evaluate[bool](p, `document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)
		ctx, cancel := p.bounded(domWait)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", shot.file, err)
		}
		path := filepath.Join(dir, shot.file)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// columnLayout is how the page lays out at one size.
type columnLayout struct {
	ScrollWidth float64   `json:"scrollWidth"`
	ClientWidth float64   `json:"clientWidth"`
	Columns     []float64 `json:"columns"` // each column's width
}

func TestBrowserLayout(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	for _, size := range []struct{ w, h int64 }{{360, 740}, {1920, 1080}} {
		t.Run(fmt.Sprintf("at %dx%d the page does not scroll sideways and each column is readable", size.w, size.h), func(t *testing.T) {
			p := newPage(t, s)
			p.do("sizing the window", chromedp.EmulateViewport(size.w, size.h))
			p.navigate("/?open=golang,rust")
			waitLiveCards(p, "golang", 3)
			waitLiveCards(p, "rust", 3)
			l := evaluate[columnLayout](p, `({
				scrollWidth: document.documentElement.scrollWidth,
				clientWidth: document.documentElement.clientWidth,
				columns: Array.from(document.querySelectorAll('[data-testid="column"]'), (c) => c.getBoundingClientRect().width),
			})`)
			if l.ScrollWidth > l.ClientWidth {
				t.Errorf("the page is %.0f px wide in a %.0f px window: it scrolls sideways", l.ScrollWidth, l.ClientWidth)
			}
			if len(l.Columns) != 2 {
				t.Fatalf("%d columns laid out, want 2", len(l.Columns))
			}
			// A narrow screen may give a column its whole width, less the
			// page's margins, when that is under 300 px.
			minWidth := min(300, l.ClientWidth-2*narrowMargin)
			for i, w := range l.Columns {
				if w < minWidth {
					t.Errorf("column %d is %.0f px wide, want at least %.0f", i, w, minWidth)
				}
			}
			t.Logf("window %.0f px: columns %v px", l.ClientWidth, l.Columns)
		})
	}
}

// narrowMargin is the most a narrow screen may keep on each side of a
// column that takes its width.
const narrowMargin = 24

// jsArray is ss as a JavaScript array literal.
func jsArray(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = jsString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
