package main

import (
	"slices"
	"testing"
)

// The page on a web node of a cluster: its columns come from the ingest
// node over NATS, and must keep their continuity as on a single process.
func TestBrowserOnAWebNodeOfACluster(t *testing.T) {
	t.Run("reloading keeps the columns with no gap or duplicate", func(t *testing.T) {
		cl := startCluster(t, "-mock-rate", clusterBrowserMockRate)
		reloadKeepsTheColumns(t, cl.web1)
	})
	t.Run("a dropped socket reconnects with no gap or duplicate", func(t *testing.T) {
		cl := startCluster(t, "-mock-rate", clusterBrowserMockRate)
		reconnectsAfterADroppedSocket(t, cl.web1)
	})
}

// clusterBrowserMockRate is lower than browserMockRate: the cluster adds a
// hop and three processes on the same cores, and at the single process's
// rate a slow moment lets fifty live tweets push the server-rendered cards
// out of a column before the reload test looks at them.
const clusterBrowserMockRate = "40"

// A column whose join is refused as unavailable (its web node cannot reach
// the ingest node) asks again, waiting longer each time, and fills once the
// ingest node is back: the reader need not reload.
func TestBrowserAColumnRefusedAsUnavailableJoinsAgain(t *testing.T) {
	cl := startCluster(t, "-mock-rate", clusterBrowserMockRate)
	px := newProxy(t, cl.web1)
	p := newPage(t, cl.web1)
	p.base = px.url()
	p.navigate("/?open=golang")
	waitLiveCards(p, "golang", 3)

	// The ingest node goes, and the page's socket with it; the page
	// cannot reconnect until its web node has let the room go.
	if err := cl.ingest.stop(t); err != nil {
		t.Fatal(err)
	}
	px.refuse(true)
	if px.sever() == 0 {
		t.Fatal("the proxy cut no WebSocket")
	}
	waitUnsubscribed(t, cl.nats, cl.web1.webNodeName(t), roomSubject("golang"))
	before := len(p.messages())
	px.refuse(false)
	p.waitMessages("the join refused as unavailable", func(msgs []wsMessage) bool {
		return slices.ContainsFunc(msgs[before:], func(m wsMessage) bool {
			return !m.Sent && m.Type == "error" && m.Code == "unavailable" && m.Room == "golang"
		})
	})
	waitFor[bool](p, "the column to say the room is unavailable", `(() => {
		const notice = document.querySelector('[data-testid="column"][data-room="golang"] [data-testid="column-notice"]');
		return !!notice && !notice.hidden && notice.textContent.includes("unavailable");
	})()`)

	// The ingest node is back: a later join succeeds, in its new epoch.
	cl.ingest = start(t, nil, append([]string{"-role", "ingest", "-nats", cl.nats.ClientURL()}, cl.ingestArgs...)...)
	msgs := p.waitMessages("joined again after the refusal", func(msgs []wsMessage) bool {
		refused := slices.IndexFunc(msgs[before:], func(m wsMessage) bool { return !m.Sent && m.Type == "error" && m.Code == "unavailable" })
		return refused >= 0 && slices.ContainsFunc(msgs[before+refused:], func(m wsMessage) bool { return !m.Sent && m.Type == "joined" && m.Room == "golang" })
	})[before:]
	joins := 0
	for _, m := range msgs {
		if m.Sent && m.Type == "join" && m.Room == "golang" {
			joins++
		}
	}
	if joins < 2 {
		t.Errorf("the page sent %d joins for golang after the refusal, want it to ask again", joins)
	}
	waitLiveCards(p, "golang", 3)
}
