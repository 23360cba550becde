package rooms

import (
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// bigCards renders every card as 1 KiB, so that a room's history of 40
// tweets is far more than a 12 KiB queue holds.
func bigCards(tw stream.Tweet, _ []string) (string, error) {
	return "<article>" + tw.ID + strings.Repeat("x", 1<<10) + "</article>", nil
}

// collect reads what a join sends after `joined` until the queue is
// drained: the seqs of the tweets and the skipped ranges.
func collect(t *testing.T, c *testClient, room string) (seqs []uint64, skips [][2]uint64) {
	t.Helper()
	for {
		m, err := c.read(300 * time.Millisecond)
		if err != nil {
			return seqs, skips
		}
		switch {
		case m.Room != room:
			t.Fatalf("got %v, want only messages of %s", m, room)
		case m.Type == "tweet":
			seqs = append(seqs, m.Seq)
		case m.Type == "skipped":
			skips = append(skips, [2]uint64{m.FromSeq, m.ToSeq})
		default:
			t.Fatalf("got %v in a backlog", m)
		}
	}
}

func TestABacklogLargerThanTheQueue(t *testing.T) {
	t.Parallel()
	const history = 40
	s := newTestServer(t, Config{History: history, QueueBytes: 12 << 10, Render: bigCards}, "golang")
	for range history {
		s.publish("golang")
	}

	t.Run("a fresh join gets the newest that fit, after a skipped for the rest", func(t *testing.T) {
		c := s.dial(t)
		c.send(map[string]any{"type": "join", "room": "golang"})
		c.expect("joined", "golang")
		seqs, skips := collect(t, c, "golang")
		if len(seqs) == 0 || len(seqs) == history {
			t.Fatalf("got %d tweets, want some but not all %d", len(seqs), history)
		}
		first := seqs[0]
		want := [][2]uint64{{1, first - 1}}
		if len(skips) != 1 || skips[0] != want[0] {
			t.Fatalf("skipped %v, want %v before the tweets", skips, want)
		}
		for i, seq := range seqs {
			if seq != first+uint64(i) {
				t.Fatalf("tweets %v are not the contiguous newest", seqs)
			}
		}
		if seqs[len(seqs)-1] != history {
			t.Fatalf("the last tweet is #%d, want #%d", seqs[len(seqs)-1], history)
		}
	})

	t.Run("joining again with since fetches the rest, part by part", func(t *testing.T) {
		c := s.dial(t)
		c.send(map[string]any{"type": "join", "room": "golang"})
		epoch := c.expect("joined", "golang").Epoch
		collect(t, c, "golang")
		got := make(map[uint64]bool)
		since := uint64(0)
		for round := 0; len(got) < history; round++ {
			if round == history {
				t.Fatalf("after %d joins with since, still missing %d of %d tweets", round, history-len(got), history)
			}
			c.send(map[string]any{"type": "join", "room": "golang", "epoch": epoch, "since": since})
			j := c.expect("joined", "golang")
			if j.Recovered == nil || !*j.Recovered {
				t.Fatalf("round %d: joined %+v, want recovered", round, j)
			}
			seqs, skips := collect(t, c, "golang")
			t.Logf("round %d since %d: %v %v", round, since, seqs, skips)
			if len(seqs) == 0 {
				t.Fatalf("round %d (since %d): no tweet at all", round, since)
			}
			for i, seq := range seqs {
				if seq != since+1+uint64(i) {
					t.Fatalf("round %d: got %v, want the oldest after %d, in order", round, seqs, since)
				}
				got[seq] = true
			}
			last := seqs[len(seqs)-1]
			switch {
			case last < history && (len(skips) != 1 || skips[0] != [2]uint64{last + 1, history}):
				t.Fatalf("round %d: skipped %v, want %d-%d after the tweets", round, skips, last+1, history)
			case last == history && len(skips) != 0:
				t.Fatalf("round %d: skipped %v with nothing left to skip", round, skips)
			}
			since = last
		}
	})
}
