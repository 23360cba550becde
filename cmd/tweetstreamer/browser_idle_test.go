package main

import (
	"slices"
	"testing"
)

// TestBrowserAPageWithNoColumnGetsItsSocketBackAtOnce: the server closes a
// socket that stays in no room; the page opens another at once, without
// the backoff of a failure, and keeps its trend list live.
func TestBrowserAPageWithNoColumnGetsItsSocketBackAtOnce(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate, "-roomless-timeout", "1s")
	p := newPage(t, s)
	p.navigate("/")
	evaluate[bool](p, `(() => {
		const el = document.querySelector('[data-testid="conn-state"]');
		window.connStates = [];
		new MutationObserver(() => window.connStates.push(el.dataset.state)).observe(el, {attributes: true, attributeFilter: ["data-state"]});
		return true;
	})()`)
	p.waitMessages("a trend list on a second socket", func(ms []wsMessage) bool {
		sockets := map[string]bool{}
		last := ""
		for _, m := range ms {
			if !m.Sent {
				sockets[m.Socket] = true
				if m.Type == "trends" {
					last = m.Socket
				}
			}
		}
		return len(sockets) >= 3 && last != "" && last != ms[0].Socket
	})
	waitFor[bool](p, "the connection shown live", `document.querySelector('[data-testid="conn-state"]').dataset.state === "live"`)
	if states := evaluate[[]string](p, `window.connStates`); slices.Contains(states, "reconnecting") {
		t.Errorf("the page showed %v, want it never reconnecting after a close that was no failure", states)
	}
	p.checkNoProblems()
}
