package main

import (
	"net"
	"strings"
	"testing"
)

// TestBrowserAnUnreachableSourceIsExplainedInPlainWords runs the Jetstream
// source against a port where nothing listens, as a demo machine without
// network: the banner says what is wrong without the network library's
// words and when the next try is, in the reader's clock, and the header no
// longer says the page is simply live.
func TestBrowserAnUnreachableSourceIsExplainedInPlainWords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	s := start(t, nil, "-source", "jetstream", "-jetstream-url", "ws://"+closed+"/subscribe",
		"-profile-url", "http://"+closed+"/xrpc/app.bsky.actor.getProfile", "-trends", "golang")
	p := newPage(t, s)
	p.navigate("/")
	text := waitFor[string](p, "the banner to say the source is unreachable", `(() => {
		const b = document.querySelector('[data-testid="source-banner"]');
		const retry = b && b.querySelector('[data-testid="source-retry"] time');
		return b && !b.hidden && retry && b.dataset.state === "backing_off" ? b.textContent.replace(/\s+/g, " ").trim() : "";
	})()`)
	for _, want := range []string{"No new tweets from Jetstream", "127.0.0.1 refused the connection", "Next try at"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner %q, want it to say %q", text, want)
		}
	}
	for _, not := range []string{"dial tcp", "connect:", "UTC"} {
		if strings.Contains(text, not) {
			t.Errorf("banner %q says %q: the library's words, or the server's clock rather than the reader's", text, not)
		}
	}
	// The time shown is the reader's own clock for the retry time.
	if ok := evaluate[bool](p, `(() => {
		const t = document.querySelector('[data-testid="source-retry"] time');
		const ms = Date.parse(t.dateTime);
		return t.textContent === new Intl.DateTimeFormat(undefined, { timeStyle: "medium" }).format(ms);
	})()`); !ok {
		t.Error("the retry time is not in the reader's clock and locale")
	}
	header := waitFor[string](p, "the header to tell the source is down", `(() => {
		const c = document.querySelector('[data-testid="conn-state"]');
		return c.dataset.state === "live" && c.dataset.sourceState === "backing_off" ? c.textContent : "";
	})()`)
	if header == "live" || !strings.Contains(header, "source") {
		t.Errorf("header says %q while the source is down", header)
	}
}
