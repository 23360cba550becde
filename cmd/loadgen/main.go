// Command loadgen loads a Tweet Streamer server on this machine with many
// WebSocket clients and measures what they receive: deliveries per second,
// end-to-end latency from each tweet's ingested_at, tweets lost or skipped,
// bytes on the wire per delivery, and errors by kind, with its own CPU use
// beside them so that a saturated load generator is not mistaken for a
// slow server. Its clients spread over the trends the server announces,
// so a run adds none; against a server with 100 trends:
//
//	go run ./cmd/tweetstreamer -addr 127.0.0.1:8080 -log-level warn -mock-rate 40000 \
//	    -trends "$(seq -f 'load-%04g' 100 | paste -sd, -)" -max-trends 100
//	go run ./cmd/loadgen -url ws://127.0.0.1:8080/ws -clients 1000 -rooms 100 -per-client 1 -duration 30s
//
// Run it with -h for every flag and how to read the report;
// scenarios.sh beside this file runs the project's load scenarios.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on one line and returns the process's exit status:
// 0 for success, 2 for a bad flag or value, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "loadgen: %v\n", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
