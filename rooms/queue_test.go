package rooms

import (
	"fmt"
	"strings"
	"testing"
)

func tweetEntry(r *room, seq uint64, size int) entry {
	return entry{frame: []byte(strings.Repeat("x", size)), room: r, seq: seq}
}

func control(r *room, text string) entry { return entry{frame: []byte(text), room: r} }

// describe renders a queue's entries compactly: "a:1" a tweet, "a:skip1-3" a
// skip, a control message by its text.
func describe(entries []entry) string {
	var parts []string
	for _, e := range entries {
		switch {
		case e.skip:
			parts = append(parts, fmt.Sprintf("%s:skip%d-%d/%d", e.room.name, e.from, e.to, e.skipped()))
		case e.isTweet():
			parts = append(parts, fmt.Sprintf("%s:%d", e.room.name, e.seq))
		default:
			parts = append(parts, string(e.frame))
		}
	}
	return strings.Join(parts, " ")
}

func TestQueue(t *testing.T) {
	t.Parallel()
	a, b := &room{name: "a"}, &room{name: "b"}
	const unit = 100 - entryOverhead // an entry of 100 bytes in all
	tests := []struct {
		name  string
		limit int
		push  []entry
		want  string
	}{
		{
			name:  "under the limit everything stays, in order",
			limit: 1000,
			push:  []entry{control(a, "joined"), tweetEntry(a, 1, unit), tweetEntry(a, 2, unit)},
			want:  "joined a:1 a:2",
		},
		{
			name:  "over the limit the oldest tweets become one skip in their place",
			limit: 300,
			push:  []entry{tweetEntry(a, 1, unit), tweetEntry(a, 2, unit), tweetEntry(a, 3, unit), tweetEntry(a, 4, unit), tweetEntry(a, 5, unit)},
			want:  "a:skip1-3/3 a:4 a:5",
		},
		{
			name:  "control messages are never dropped and keep their place",
			limit: 300,
			push:  []entry{control(a, "joined"), tweetEntry(a, 1, unit), tweetEntry(a, 2, unit), tweetEntry(a, 3, unit), tweetEntry(a, 4, unit)},
			want:  "joined a:skip1-3/3 a:4",
		},
		{
			name:  "each room gets its own skip",
			limit: 300,
			push:  []entry{tweetEntry(a, 1, unit), tweetEntry(b, 1, unit), tweetEntry(a, 2, unit), tweetEntry(b, 2, unit), tweetEntry(a, 3, unit), tweetEntry(b, 3, unit)},
			want:  "a:skip1-2/2 b:skip1-2/2 a:3 b:3",
		},
		{
			name:  "a skip does not merge across a leave and join of its room",
			limit: 400,
			push:  []entry{tweetEntry(a, 1, unit), control(a, "left"), control(a, "joined"), tweetEntry(a, 2, unit), tweetEntry(a, 3, unit), tweetEntry(a, 4, unit)},
			want:  "a:skip1-1/1 left joined a:skip2-3/2 a:4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(tt.limit)
			for _, e := range tt.push {
				q.push(e)
			}
			if got := describe(q.take(nil)); got != tt.want {
				t.Errorf("queue holds\n  %s\nwant\n  %s", got, tt.want)
			}
			if q.len() != 0 || q.bytes != 0 {
				t.Errorf("after take: len %d, bytes %d; want empty", q.len(), q.bytes)
			}
		})
	}
}

func TestQueueStaysBoundedUnderALongBacklog(t *testing.T) {
	t.Parallel()
	a := &room{name: "a"}
	q := newQueue(10_000)
	for seq := uint64(1); seq <= 100_000; seq++ {
		if !q.push(tweetEntry(a, seq, 500)) {
			t.Fatalf("push %d: over the hard limit with only tweets queued", seq)
		}
		if q.bytes > q.limit {
			t.Fatalf("push %d: %d bytes queued, limit %d", seq, q.bytes, q.limit)
		}
	}
	got := q.take(nil)
	if !got[0].skip || got[0].from != 1 || got[0].skipped() != got[0].to {
		t.Fatalf("first entry = %+v, want one skip from 1", got[0])
	}
	next := got[0].to + 1
	for _, e := range got[1:] {
		if e.seq != next {
			t.Fatalf("after the skip: seq %d, want %d", e.seq, next)
		}
		next++
	}
	if next != 100_001 {
		t.Errorf("queue ends at seq %d, want 100000", next-1)
	}
	if cap(q.entries) > 1000 {
		t.Errorf("queue slice grew to %d entries for a 10 KB limit", cap(q.entries))
	}
}

func TestQueueReportsAClientThatReadsNothing(t *testing.T) {
	t.Parallel()
	q := newQueue(1000)
	ok := true
	for i := 0; i < 100 && ok; i++ {
		ok = q.push(control(nil, strings.Repeat("e", 100)))
	}
	if ok {
		t.Fatal("push kept accepting control messages far past the hard limit")
	}
}
