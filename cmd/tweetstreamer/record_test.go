package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestRecordFromTheMock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.jsonl")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"tweetstreamer", "record", "-source", "mock", "-mock-rate", "200",
		"-trends", "golang,rust,music", "-duration", "1s", "-o", path}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("record: %v\n%s", err, stderr.String())
	}
	tweets := readRecording(t, path)
	if len(tweets) < 50 {
		t.Fatalf("recorded %d tweets in 1 s at 200/s, want most of them", len(tweets))
	}
	trends, _ := stream.NewTrends([]string{"golang", "rust", "music"}, 3)
	for _, tw := range tweets {
		if len(trends.Matcher().Match(tw.Text)) == 0 || tw.IngestedAt.IsZero() {
			t.Fatalf("recorded %+v: want only matched tweets, with ingested_at", tw)
		}
	}
	if out := stdout.String(); !strings.Contains(out, "recording mock tweets that match golang,rust,music for 1s to "+path) ||
		!strings.Contains(out, "recorded ") {
		t.Errorf("stdout %q", out)
	}
	t.Run("an existing file is refused", func(t *testing.T) {
		err := run(context.Background(), []string{"tweetstreamer", "record", "-source", "mock", "-duration", "1s", "-o", path},
			nil, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("err %v, want one saying the file exists", err)
		}
		var usage usageError
		if !errors.As(err, &usage) {
			t.Errorf("err %T, want a usage error (exit 2)", err)
		}
	})
}

// TestRecordGivesUpEarlyOnASourceThatNeverConnects: ten minutes asked
// for, but a source that has not connected once within
// recordConnectWithin ends the recording then, with exit status 1 and
// no file left behind.
func TestRecordGivesUpEarlyOnASourceThatNeverConnects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.jsonl")
	url := "ws://" + closedPort(t) + "/subscribe"
	synctest.Test(t, func(t *testing.T) {
		began := time.Now()
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"tweetstreamer", "record", "-source", "jetstream", "-jetstream-url", url,
			"-duration", "10m", "-o", path}, nil, &stdout, &stderr)
		took := time.Since(began)
		if err == nil || !strings.Contains(err.Error(), "the source never connected in 30s") ||
			!strings.Contains(err.Error(), "refused the connection") {
			t.Fatalf("record = %v, want an error saying the source never connected in 30s, and why", err)
		}
		if took < recordConnectWithin || took > recordConnectWithin+connectCheckEvery {
			t.Errorf("record gave up after %v, want %v", took, recordConnectWithin)
		}
		if code := exitCode(err, &strings.Builder{}); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
	})
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Errorf("the empty recording was left behind: %v", statErr)
	}
}

// statusAt reports the states of a source over time, as a fake upstream.
type statusAt func(since time.Duration) stream.SourceState

// scriptedSource is a StatusReporter whose state follows a script from
// its creation.
type scriptedSource struct {
	began  time.Time
	script statusAt
}

func (s scriptedSource) Status() stream.SourceStatus {
	return stream.SourceStatus{State: s.script(time.Since(s.began)), Reason: "refused"}
}

// A source that connected once is left to retry, however long it is down
// after; one that never did is given up on at the bound.
func TestAwaitConnection(t *testing.T) {
	tests := []struct {
		name    string
		script  statusAt
		wantErr bool
	}{
		{"connected once, then down for good", func(d time.Duration) stream.SourceState {
			if d >= 10*time.Second && d < 12*time.Second {
				return stream.SourceConnected
			}
			return stream.SourceBackingOff
		}, false},
		{"never connected", func(time.Duration) stream.SourceState { return stream.SourceBackingOff }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := scriptedSource{began: time.Now(), script: tt.script}
				err := awaitConnection(t.Context(), src, &stream.Ingester{}, recordConnectWithin)
				if (err != nil) != tt.wantErr {
					t.Fatalf("awaitConnection = %v, want an error: %v", err, tt.wantErr)
				}
				if tt.wantErr && !strings.Contains(err.Error(), "never connected in 30s (backing_off: refused)") {
					t.Errorf("error %q, want it to say how long and the last state", err)
				}
			})
		})
	}
}
