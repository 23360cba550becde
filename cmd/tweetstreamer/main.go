// Command tweetstreamer serves live columns of tweets that match trends:
// an ingester reads a stream (the built-in mock by default, or a replayed
// file), routes each tweet into the room of every trend it matches, and
// fans it out to browsers over WebSockets.
//
// Run it with no flags for a lively offline demo at http://localhost:8080.
// Every flag can also be set with an environment variable: -mock-rate is
// TS_MOCK_RATE. Run it with -h for the list.
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
	err := run(ctx, os.Args, os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on one line and returns the process's exit status:
// 0 for success, 2 for a bad flag or value, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "tweetstreamer: %v\n", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
