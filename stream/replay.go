package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// ReplayConfig configures NewReplay.
type ReplayConfig struct {
	// Path is a JSON Lines file: one tweet object per line, in the shape of
	// the live protocol's tweet object, each line at most 1 MiB. It is
	// required.
	Path string
	// Speed scales the original timing: 1 keeps it, 2 plays twice as fast,
	// 0 plays as fast as the sink takes the tweets. Negative is an error.
	Speed float64
	// Loop starts again at the top of the file after its end, forever.
	Loop bool
	// Logger receives a warning for each malformed line; nil means
	// slog.Default().
	Logger *slog.Logger
}

const (
	// maxReplayLine is the longest line a replay file may hold, in bytes (1 MiB).
	// A longer line is skipped whole, so one bad line never stops a replay
	// or costs more memory than this.
	maxReplayLine = 1 << 20
	// maxReplayGap caps the pause between two tweets, in the file's time
	// (before Speed divides it): a capture with an hour's hole in it plays
	// on after ten seconds instead of seeming stuck.
	maxReplayGap = 10 * time.Second
	// maxReplayLag is how far the replay may fall behind its schedule (a
	// slow sink) and still catch up; beyond it, the schedule restarts from
	// now rather than rushing out the backlog.
	maxReplayLag = time.Second
)

// Replay is a Source that plays a JSON Lines file of tweets with their
// original timing, scaled by a speed. Every tweet's Source is "replay".
//
// A tweet's time is its ingested_at when the line has one (a recorded file
// keeps when the live stream delivered each tweet), else its created_at. A
// tweet waits for the gap between its time and that of the tweet before
// it, capped at ten seconds and divided by the speed; a tweet timed earlier
// than the one before it, or without a time, plays at once.
//
// Every pass shifts created_at so that the pass's first timed tweet was
// written "now", keeping the gaps between tweets: a file recorded last
// month plays as if live. A tweet without created_at is given the time it
// is played. The first pass over the file keeps its IDs; each later pass,
// whether through Loop or a new Stream call, gives every ID the suffix
// "~n" for pass n (1, 2, ...) so that IDs stay unique.
type Replay struct {
	path   string
	speed  float64
	loop   bool
	logger *slog.Logger

	passes atomic.Uint64 // passes started so far, over all Stream calls
}

var _ Source = (*Replay)(nil)

// NewReplay checks that cfg.Path is a file that can be opened and that
// cfg.Speed is not negative, and returns a replay of that file.
func NewReplay(cfg ReplayConfig) (*Replay, error) {
	if cfg.Path == "" {
		return nil, errors.New("replay: a file to play is required")
	}
	if !(cfg.Speed >= 0) { // also refuses NaN
		return nil, fmt.Errorf("replay: speed %v: must be 0 (as fast as possible) or more", cfg.Speed)
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("replay: %s is a directory, not a JSON Lines file", cfg.Path)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Replay{path: cfg.Path, speed: cfg.Speed, loop: cfg.Loop, logger: logger}, nil
}

// Stream plays the file. Without Loop it returns nil at the end of the
// file. With Loop it plays forever, unless a whole pass finds no tweet to
// play: then it returns an error rather than spin. It returns ctx.Err()
// once ctx is done, and an error when the file cannot be read.
//
// Malformed lines (invalid JSON, no id, no text, longer than 1 MiB) are
// skipped, and logged with their line number on the first pass of each
// call; blank lines are skipped silently.
func (r *Replay) Stream(ctx context.Context, sink Sink) error {
	p := player{Replay: r, ctx: ctx, sink: sink, next: time.Now()}
	for first := true; ; first = false {
		played, err := p.play(r.passes.Add(1)-1, first)
		if err != nil {
			return err
		}
		if !r.loop {
			return nil
		}
		if played == 0 {
			return fmt.Errorf("replay: no playable tweets in %s", r.path)
		}
	}
}

// player is the state of one Stream call.
type player struct {
	*Replay
	ctx  context.Context
	sink Sink
	next time.Time // when the next tweet is due; unused at speed 0
	buf  []byte    // line buffer, reused
}

// play plays the file once as pass number pass, and returns how many
// tweets it played.
func (p *player) play(pass uint64, logBad bool) (played int, err error) {
	f, err := os.Open(p.path)
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)

	var (
		prev    time.Time     // the time of the previous tweet that had one
		shift   time.Duration // added to created_at
		shifted bool          // shift is set for this pass
		suffix  = "~" + strconv.FormatUint(pass, 10)
	)
	for lineNo := 1; ; lineNo++ {
		if err := p.ctx.Err(); err != nil {
			return played, err
		}
		line, tooLong, rerr := readLine(br, p.buf[:0])
		p.buf = line
		if rerr != nil && rerr != io.EOF {
			return played, fmt.Errorf("replay: reading %s: %w", p.path, rerr)
		}
		if rerr == io.EOF && len(line) == 0 && !tooLong {
			return played, nil
		}

		t, reason := parseReplayLine(line, tooLong)
		switch {
		case reason == "" && t == nil:
			// A blank line.
		case reason != "":
			if logBad {
				p.logger.Warn("replay: skipping a malformed line",
					"path", p.path, "line", lineNo, "reason", reason)
			}
		default:
			at := t.IngestedAt
			if at.IsZero() {
				at = t.CreatedAt
			}
			if !at.IsZero() {
				if !prev.IsZero() {
					p.next = p.next.Add(p.wait(at.Sub(prev)))
				}
				prev = at
			}
			if err := p.sleep(); err != nil {
				return played, err
			}
			t.Source = "replay"
			t.IngestedAt = time.Time{}
			switch {
			case t.CreatedAt.IsZero():
				t.CreatedAt = time.Now()
			default:
				if !shifted {
					shift, shifted = time.Now().Round(0).Sub(at), true
				}
				t.CreatedAt = t.CreatedAt.Add(shift)
			}
			if pass > 0 {
				t.ID += suffix
			}
			p.sink.Tweet(*t)
			played++
		}
		if rerr == io.EOF {
			return played, nil
		}
	}
}

// wait is how long to wait for a gap of file time.
func (p *player) wait(gap time.Duration) time.Duration {
	if p.speed == 0 || gap <= 0 {
		return 0
	}
	gap = min(gap, maxReplayGap)
	// At a tiny speed the division could overflow a Duration; a wait of
	// more than a day is as good as forever for a replay.
	return time.Duration(math.Min(float64(gap)/p.speed, float64(24*time.Hour)))
}

// sleep waits until p.next, or until the context is done.
func (p *player) sleep() error {
	if p.speed == 0 {
		return nil
	}
	d := time.Until(p.next)
	if d <= 0 {
		if d < -maxReplayLag {
			p.next = time.Now()
		}
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.ctx.Done():
		return p.ctx.Err()
	case <-timer.C:
		return nil
	}
}

// parseReplayLine decodes one line. It returns a nil tweet and an empty
// reason for a blank line, and a reason for a malformed one.
func parseReplayLine(line []byte, tooLong bool) (t *Tweet, reason string) {
	if tooLong {
		return nil, fmt.Sprintf("longer than %d bytes", maxReplayLine)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, ""
	}
	t = new(Tweet)
	if err := json.Unmarshal(line, t); err != nil {
		return nil, "invalid JSON: " + err.Error()
	}
	switch {
	case t.ID == "":
		return nil, "no id"
	case t.Text == "":
		return nil, "no text"
	}
	return t, ""
}

// readLine reads one line into buf, without its line ending. A line longer
// than maxReplayLine is read to its end but returned empty, with tooLong
// set. err is io.EOF after the last line, which may be returned with it.
func readLine(r *bufio.Reader, buf []byte) (line []byte, tooLong bool, err error) {
	line = buf[:0]
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxReplayLine+len("\r\n") {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > maxReplayLine {
			tooLong, line = true, line[:0]
		}
		return line, tooLong, err
	}
}
