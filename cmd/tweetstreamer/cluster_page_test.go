package main

import (
	"strings"
	"testing"
	"time"
)

// A web node runs no source, yet its page says what the ingest node's
// source is and shows its "trending now", as a single process's does.
func TestAWebNodesPageShowsTheIngestNodesSourceAndTrendingTags(t *testing.T) {
	cl := startCluster(t, "-source", "replay", "-replay-file", "../../testdata/sample.jsonl", "-replay-speed", "0", "-replay-loop")
	deadline := time.Now().Add(15 * time.Second)
	for {
		doc := cl.web1.page(t, "/")
		source := strings.TrimSpace(doc.Find(`[data-testid="source"]`).Text())
		tags := doc.Find(`[data-testid="trending-list"] li`).Length()
		if source == "replay" && tags > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the web node's page names the source %q and shows %d trending tags; want replay and some", source, tags)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
