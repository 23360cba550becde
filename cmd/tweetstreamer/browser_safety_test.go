package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostilePayloads are what a tweet's author controls, written to run if any
// of it reached the page as markup or as a link.
var hostilePayloads = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`javascript:alert(1)`,
	`"><svg onload=alert(1)>`,
}

// writeHostileReplay writes a replay file, in t.TempDir(), of tweets about
// golang whose every field a source fills carries the payloads, and returns
// its path.
func writeHostileReplay(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	start := time.Now().UTC()
	for i, p := range hostilePayloads {
		tweet := map[string]any{
			"id":     fmt.Sprintf("hostile-%d-%s", i, p),
			"source": p,
			"author": map[string]any{
				"handle":     p,
				"name":       p + " " + strings.Join(hostilePayloads, " "),
				"avatar_url": p,
			},
			"text":          "golang " + strings.Join(hostilePayloads, " ") + " #golang https://example.com/?q=" + p,
			"url":           p,
			"lang":          `en" onmouseover="alert(1)`,
			"created_at":    start.Add(time.Duration(i) * 150 * time.Millisecond).Format(time.RFC3339Nano),
			"thumbnail_url": p,
			"links":         []string{p, "https://example.com/\"><script>alert(1)</script>", `javascript:alert(1)//https://example.com`},
			"retweeted_by":  map[string]any{"handle": p, "name": p, "avatar_url": p},
			"tags":          []string{p, "golang"},
		}
		line, err := json.Marshal(tweet)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "hostile.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitRenderedCards waits until the server renders room's column with at
// least one card, so that a page loaded next has a backlog rendered by the
// server before live cards arrive.
func waitRenderedCards(t *testing.T, s *server, room string) {
	t.Helper()
	waitRenderedCount(t, s, room, 1)
}

// waitRenderedCount waits until the server renders room's column with at
// least n cards.
func waitRenderedCount(t *testing.T, s *server, room string, n int) {
	t.Helper()
	deadline := time.Now().Add(domWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		_, body := s.get(t, "/column?room="+room)
		got := strings.Count(body, `data-testid="card"`)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tweets in the %s column after %v, want %d", got, room, domWait, n)
		}
		<-tick.C
	}
}

// markupReport is what the page holds that it must not: elements and
// attributes that run script or load what they should not.
type markupReport struct {
	Bad   []string `json:"bad"`
	Texts []string `json:"texts"`
}

const markupCheck = `(() => {
  const bad = [];
  // The page's own scripts come from its assets, whatever their names.
  for (const el of document.querySelectorAll("script")) {
    const src = el.src ? new URL(el.src, location.href) : null;
    if (!src || src.origin !== location.origin || !src.pathname.startsWith("/assets/")) {
      bad.push("script element: " + el.outerHTML.slice(0, 200));
    }
  }
  const columns = document.querySelector('[data-testid="columns"]');
  for (const el of columns.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "svg", "form", "base", "meta", "link", "style"].includes(tag)) {
      bad.push("element <" + tag + ">: " + el.outerHTML.slice(0, 200));
    }
    for (const a of el.attributes) {
      if (a.name.startsWith("on")) bad.push("attribute " + a.name + " on <" + tag + ">");
      if (["href", "src", "srcset", "action", "formaction", "xlink:href", "poster"].includes(a.name)) {
        const v = a.value.trim();
        if (!/^(https?:|\/|#)/i.test(v)) bad.push("attribute " + a.name + "=" + JSON.stringify(v) + " on <" + tag + ">");
      }
    }
  }
  const texts = Array.from(columns.querySelectorAll('[data-testid="card"]'), (c) => c.textContent);
  return { bad, texts };
})()`

func TestBrowserHostileTweetsRenderAsText(t *testing.T) {
	replay := writeHostileReplay(t)
	s := start(t, nil, "-source", "replay", "-replay-file", replay, "-replay-loop", "-trends", "golang,rust")
	waitRenderedCards(t, s, "golang")
	p := newPage(t, s)
	p.navigate("/?open=golang")
	waitColumn(p, "golang")
	// Cards the server rendered into the page, then cards the script added
	// from live tweets: both paths must keep the payloads inert.
	if n := evaluate[int](p, `document.querySelectorAll('[data-testid="card"]').length`); n == 0 {
		t.Fatal("the page was rendered without the golang backlog")
	}
	waitLiveCards(p, "golang", len(hostilePayloads)+1)

	report := evaluate[markupReport](p, markupCheck)
	for _, b := range report.Bad {
		t.Errorf("the page holds markup from a tweet: %s", b)
	}
	all := strings.Join(report.Texts, "\n")
	for _, payload := range []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`} {
		if !strings.Contains(all, payload) {
			t.Errorf("the cards do not show %s as text:\n%s", payload, all)
		}
	}
	// A dialog or a violation may come a moment after the markup is added
	// (an image's error event): wait for one more live card, which the
	// page renders after all of that.
	waitLiveCards(p, "golang", len(hostilePayloads)+2)

	p.mu.Lock()
	dialogs, violations := append([]string(nil), p.dialogs...), append([]string(nil), p.violations...)
	p.mu.Unlock()
	for _, d := range dialogs {
		t.Errorf("a dialog opened: %s", d)
	}
	for _, v := range violations {
		t.Errorf("a Content-Security-Policy violation: %s", v)
	}
	p.checkNoProblems()
}
