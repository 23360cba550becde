package main

import "testing"

// The page on a web node of a cluster: its columns come from the ingest
// node over NATS, and must keep their continuity as on a single process.
func TestBrowserOnAWebNodeOfACluster(t *testing.T) {
	t.Run("reloading keeps the columns with no gap or duplicate", func(t *testing.T) {
		cl := startCluster(t, "-mock-rate", browserMockRate)
		reloadKeepsTheColumns(t, cl.web1)
	})
	t.Run("a dropped socket reconnects with no gap or duplicate", func(t *testing.T) {
		cl := startCluster(t, "-mock-rate", browserMockRate)
		reconnectsAfterADroppedSocket(t, cl.web1)
	})
}
