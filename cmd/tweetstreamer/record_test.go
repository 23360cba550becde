package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
