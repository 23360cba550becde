package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// capturedLog collects what a logger writes, as JSON records.
type capturedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// newCapturedLog returns a logger that writes every level to the result.
func newCapturedLog() (*slog.Logger, *capturedLog) {
	l := new(capturedLog)
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *capturedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Records decodes what was logged, one map per record.
func (l *capturedLog) Records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var records []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		records = append(records, r)
	}
	return records
}

// replayEpoch is when the tweets of the test files were written.
var replayEpoch = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

// tweetLine is a line of a replay file for a tweet written offset after
// replayEpoch.
func tweetLine(id string, offset time.Duration) string {
	b, err := json.Marshal(Tweet{
		ID:        id,
		Source:    "twitter",
		Author:    Author{Handle: "zoe_codes", Name: "Zoë Martin"},
		Text:      "tweet " + id + " about #golang",
		URL:       "https://example.com/status/" + id,
		Lang:      "en",
		CreatedAt: replayEpoch.Add(offset),
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// writeReplayFile writes content to a new file and returns its path.
func writeReplayFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tweets.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func jsonLines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func tweetIDs(tweets []Tweet) []string {
	out := make([]string, len(tweets))
	for i, t := range tweets {
		out[i] = t.ID
	}
	return out
}

func TestNewReplay(t *testing.T) {
	good := writeReplayFile(t, jsonLines(tweetLine("1", 0)))
	tests := []struct {
		name    string
		cfg     ReplayConfig
		wantErr string
		is      error
	}{
		{"accepts a readable file at speed 1", ReplayConfig{Path: good, Speed: 1}, "", nil},
		{"accepts speed 0", ReplayConfig{Path: good}, "", nil},
		{"refuses a missing file, wrapping the os error", ReplayConfig{Path: filepath.Join(t.TempDir(), "nope.jsonl"), Speed: 1}, "nope.jsonl", fs.ErrNotExist},
		{"refuses an empty path", ReplayConfig{Speed: 1}, "required", nil},
		{"refuses a directory", ReplayConfig{Path: t.TempDir(), Speed: 1}, "directory", nil},
		{"refuses a negative speed", ReplayConfig{Path: good, Speed: -1}, "speed -1", nil},
		{"refuses a NaN speed", ReplayConfig{Path: good, Speed: math.NaN()}, "speed NaN", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReplay(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || r == nil {
					t.Fatalf("NewReplay = %v, %v; want a replay", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewReplay error = %v, want one that mentions %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

// playReplay runs a replay of cfg to its end, and returns what it played,
// when, relative to the start, and Stream's error.
func playReplay(t *testing.T, cfg ReplayConfig) ([]Tweet, []time.Duration, error) {
	t.Helper()
	r, err := NewReplay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := new(sinkRecorder)
	start := time.Now()
	err = r.Stream(t.Context(), sink)
	var offsets []time.Duration
	for _, at := range sink.Times() {
		offsets = append(offsets, at.Sub(start))
	}
	return sink.Tweets(), offsets, err
}

func TestReplayTiming(t *testing.T) {
	file := jsonLines(
		tweetLine("a", 0),
		tweetLine("b", time.Second),
		tweetLine("c", 3*time.Second),
		tweetLine("d", 3*time.Second),       // written with c: no wait
		tweetLine("e", 2*time.Second),       // earlier than d: no wait
		tweetLine("f", 7*time.Second),       // 5 s after e
		tweetLine("g", 7*time.Minute),       // a long gap, capped at 10 s
		`{"id":"h","text":"no created_at"}`, // plays at once
		tweetLine("i", 7*time.Minute+2*time.Second),
	)
	// The waits in file time: 1, 2, 0, 0, 5, 10 (capped), 0, 2 seconds.
	at := []time.Duration{0, 1, 3, 3, 3, 8, 18, 18, 20}
	tests := []struct {
		name  string
		speed float64
		scale float64 // of the original waits
	}{
		{"speed 1 keeps the original waits", 1, 1},
		{"speed 2 halves them", 2, 0.5},
		{"speed 0.5 doubles them", 0.5, 2},
		{"speed 0 plays everything at once", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tweets, offsets, err := playReplay(t, ReplayConfig{Path: writeReplayFile(t, file), Speed: tt.speed})
				if err != nil {
					t.Fatalf("Stream = %v, want nil at the end of the file", err)
				}
				if want := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}; !slices.Equal(tweetIDs(tweets), want) {
					t.Fatalf("played %q, want %q", tweetIDs(tweets), want)
				}
				for i, got := range offsets {
					want := time.Duration(float64(at[i]*time.Second) * tt.scale)
					if got != want {
						t.Errorf("tweet %s played at %v, want %v", tweets[i].ID, got, want)
					}
				}
			})
		})
	}
}

func TestReplayAtSpeedZeroIsFast(t *testing.T) {
	var b strings.Builder
	for i := range 20_000 {
		b.WriteString(tweetLine(strconv.Itoa(i), time.Duration(i)*time.Second))
		b.WriteByte('\n')
	}
	path := writeReplayFile(t, b.String())
	start := time.Now()
	tweets, _, err := playReplay(t, ReplayConfig{Path: path})
	if err != nil || len(tweets) != 20_000 {
		t.Fatalf("played %d tweets, %v; want 20000, nil", len(tweets), err)
	}
	// 20,000 tweets span 5.5 hours of file time.
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestReplayPassesTweetsThrough(t *testing.T) {
	const line = `{"id":"42","source":"twitter","author":{"handle":"ayse_yilmaz","name":"Ayşe Yılmaz","avatar_url":"https://example.com/a.png"},` +
		`"text":"Merhaba #golang 👋","url":"https://example.com/s/42","lang":"tr","created_at":"2025-03-14T15:00:00.123456789Z",` +
		`"ingested_at":"2025-03-14T15:00:01Z","retweeted_by":{"handle":"someone","name":"Some One"},"tags":["golang"],"quote_count":3}`
	before := time.Now()
	tweets, _, err := playReplay(t, ReplayConfig{Path: writeReplayFile(t, line)})
	if err != nil || len(tweets) != 1 {
		t.Fatalf("played %d tweets, %v; want 1, nil", len(tweets), err)
	}
	after := time.Now()
	// created_at keeps its distance to the recorded ingested_at (0.877 s),
	// counted back from when the tweet played.
	got := tweets[0]
	const recordedLag = time.Second - 123456789*time.Nanosecond
	if got.CreatedAt.Before(before.Add(-recordedLag)) || got.CreatedAt.After(after.Add(-recordedLag)) {
		t.Errorf("created_at %v, want 0.877 s before it played (between %v and %v)", got.CreatedAt, before, after)
	}
	got.CreatedAt = time.Time{}
	want := Tweet{
		ID:          "42",
		Source:      "replay",
		Author:      Author{Handle: "ayse_yilmaz", Name: "Ayşe Yılmaz", AvatarURL: "https://example.com/a.png"},
		Text:        "Merhaba #golang 👋",
		URL:         "https://example.com/s/42",
		Lang:        "tr",
		RetweetedBy: &Author{Handle: "someone", Name: "Some One"},
		Tags:        []string{"golang"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("played\n%+v\nwant (Source replaced, IngestedAt left to the ingester)\n%+v", got, want)
	}
}

func TestReplaySkipsMalformedLines(t *testing.T) {
	longLine := `{"id":"long","text":"` + strings.Repeat("x", maxReplayLine) + `"}`
	file := tweetLine("good-1", 0) + "\n" + // line 1
		"{not json\n" + // 2
		`{"text":"who wrote this?"}` + "\n" + // 3
		`{"id":"no-text"}` + "\n" + // 4
		longLine + "\n" + // 5
		"\n" + // 6
		"   \t\n" + // 7
		tweetLine("good-2", time.Second) + "\r\n" + // 8
		"\r\n" + // 9
		"null\n" + // 10
		`{"id":"bad-time","text":"x","created_at":"yesterday"}` + "\n" + // 11
		longLine + longLine + "\n" + // 12
		tweetLine("good-3", 2*time.Second) // 13, without a final newline
	logger, log := newCapturedLog()
	tweets, _, err := playReplay(t, ReplayConfig{Path: writeReplayFile(t, file), Logger: logger})
	if err != nil {
		t.Fatalf("Stream = %v, want nil", err)
	}
	if want := []string{"good-1", "good-2", "good-3"}; !slices.Equal(tweetIDs(tweets), want) {
		t.Errorf("played %q, want %q in order", tweetIDs(tweets), want)
	}

	wantReasons := map[int]string{
		2:  "invalid JSON",
		3:  "no id",
		4:  "no text",
		5:  "longer than 1048576 bytes",
		10: "no id",
		11: "invalid JSON",
		12: "longer than 1048576 bytes",
	}
	got := make(map[int]string)
	for _, r := range log.Records(t) {
		if r["level"] != "WARN" {
			t.Errorf("logged at %v, want WARN: %v", r["level"], r)
		}
		line, _ := r["line"].(float64)
		got[int(line)], _ = r["reason"].(string)
	}
	if len(got) != len(wantReasons) {
		t.Errorf("logged lines %v, want exactly %v", got, wantReasons)
	}
	for line, want := range wantReasons {
		if !strings.HasPrefix(got[line], want) {
			t.Errorf("line %d logged with reason %q, want %q", line, got[line], want)
		}
	}
}

func TestReplayEnd(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		loop    bool
		wantErr string
	}{
		{"without loop the end of the file ends the stream", jsonLines(tweetLine("a", 0)), false, ""},
		{"without loop an empty file ends the stream", "", false, ""},
		{"with loop a file without a playable line is an error", jsonLines("", "{oops", `{"id":"x"}`), true, "no playable tweets in"},
		{"with loop an empty file is an error", "", true, "no playable tweets in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, _ := newCapturedLog()
			_, _, err := playReplay(t, ReplayConfig{Path: writeReplayFile(t, tt.file), Loop: tt.loop, Logger: logger})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Stream = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Stream = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
	t.Run("a file that disappears is an error", func(t *testing.T) {
		path := writeReplayFile(t, jsonLines(tweetLine("a", 0)))
		r, err := NewReplay(ReplayConfig{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := r.Stream(t.Context(), new(sinkRecorder)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stream = %v, want an error wrapping fs.ErrNotExist", err)
		}
	})
}

func TestReplayLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := NewReplay(ReplayConfig{
			Path:  writeReplayFile(t, jsonLines(tweetLine("a", 0), "{bad", tweetLine("b", time.Second), tweetLine("c", 3*time.Second))),
			Speed: 1,
			Loop:  true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		sink := &sinkRecorder{onTweet: func(n int) {
			if n == 9 {
				cancel()
			}
		}}
		if err := r.Stream(ctx, sink); !errors.Is(err, context.Canceled) {
			t.Errorf("Stream = %v, want context.Canceled", err)
		}

		tweets, times := sink.Tweets(), sink.Times()
		if want := []string{"a", "b", "c", "a~1", "b~1", "c~1", "a~2", "b~2", "c~2"}; !slices.Equal(tweetIDs(tweets), want) {
			t.Fatalf("played %q, want %q", tweetIDs(tweets), want)
		}
		for pass := range 3 {
			first := tweets[3*pass]
			for i, gap := range []time.Duration{0, time.Second, 3 * time.Second} {
				tw := tweets[3*pass+i]
				if got := tw.CreatedAt.Sub(first.CreatedAt); got != gap {
					t.Errorf("%s written %v after %s, want %v as in the file", tw.ID, got, first.ID, gap)
				}
			}
			if played := times[3*pass]; !first.CreatedAt.Equal(played) {
				t.Errorf("pass %d: %s written at %v, want when it played, %v", pass, first.ID, first.CreatedAt, played)
			}
		}
	})
}

func TestReplayStopsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := NewReplay(ReplayConfig{
			Path:  writeReplayFile(t, jsonLines(tweetLine("a", 0), tweetLine("b", 10*time.Second))),
			Speed: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Stream(ctx, new(sinkRecorder)) }()
		time.Sleep(time.Second)
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Stream = %v, want context.Canceled", err)
			}
		default:
			t.Error("Stream still waits for the next tweet after cancellation")
		}
	})
}

// The sample file is what a developer first replays: every line valid,
// every default trend present, some tweets in two rooms at once.
func TestSampleFile(t *testing.T) {
	logger, log := newCapturedLog()
	tweets, _, err := playReplay(t, ReplayConfig{Path: "../testdata/sample.jsonl", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if records := log.Records(t); len(records) > 0 {
		t.Errorf("the sample logs %v", records)
	}
	if len(tweets) < 50 {
		t.Errorf("%d tweets, want about 60", len(tweets))
	}
	m := NewMatcher(defaultTestTrends)
	perTrend := make(map[string]int)
	seen := make(map[string]bool)
	langs := make(map[string]bool)
	twoTrends := 0
	for i, tw := range tweets {
		if seen[tw.ID] {
			t.Errorf("ID %s repeats", tw.ID)
		}
		seen[tw.ID] = true
		langs[tw.Lang] = true
		if i > 0 && tw.CreatedAt.Before(tweets[i-1].CreatedAt) {
			t.Errorf("%s is written before the tweet above it", tw.ID)
		}
		matched := m.Match(tw.Text)
		for _, trend := range matched {
			perTrend[trend]++
		}
		if len(matched) >= 2 {
			twoTrends++
		}
	}
	for _, trend := range defaultTestTrends {
		if perTrend[trend] < 3 {
			t.Errorf("%d tweets about %q, want several", perTrend[trend], trend)
		}
	}
	if twoTrends < 5 {
		t.Errorf("%d tweets match two trends, want some", twoTrends)
	}
	if len(langs) < 4 {
		t.Errorf("languages %v, want a few", langs)
	}
	if span := tweets[len(tweets)-1].CreatedAt.Sub(tweets[0].CreatedAt); span < 90*time.Second || span > 150*time.Second {
		t.Errorf("the sample spans %v, want about two minutes", span)
	}
}
