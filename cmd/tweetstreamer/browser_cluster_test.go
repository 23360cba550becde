package main

import "testing"

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
