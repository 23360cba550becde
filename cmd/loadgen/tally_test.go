package main

import "testing"

// event is a tweet (to == 0) or a skipped range from..to, as one room's
// messages reach one client.
type event struct{ from, to uint64 }

func tweetAt(seq uint64) event        { return event{from: seq} }
func skippedAt(from, to uint64) event { return event{from: from, to: to} }

func TestRoomTally(t *testing.T) {
	type counts struct{ live, backlog, lost, backlogGaps, dups, skipped, backlogSkipped uint64 }
	tests := []struct {
		name    string
		joinSeq uint64
		events  []event
		want    counts
	}{
		{
			name:   "an unbroken run loses nothing",
			events: []event{tweetAt(1), tweetAt(2), tweetAt(3)},
			want:   counts{live: 3},
		},
		{
			name:   "the first tweet seen starts the count, whatever its seq",
			events: []event{tweetAt(57), tweetAt(58)},
			want:   counts{live: 2},
		},
		{
			name:   "a gap counts every missing seq",
			events: []event{tweetAt(1), tweetAt(2), tweetAt(6), tweetAt(7)},
			want:   counts{live: 4, lost: 3},
		},
		{
			name:   "a skipped range is not a gap",
			events: []event{tweetAt(1), skippedAt(2, 4), tweetAt(5)},
			want:   counts{live: 2, skipped: 3},
		},
		{
			name:   "a gap before a skipped range still counts",
			events: []event{tweetAt(1), skippedAt(4, 5), tweetAt(6)},
			want:   counts{live: 2, lost: 2, skipped: 2},
		},
		{
			name:   "a skipped range before any tweet starts the count",
			events: []event{skippedAt(10, 12), tweetAt(14)},
			want:   counts{live: 1, lost: 1, skipped: 3},
		},
		{
			name:   "a repeated or older seq is a duplicate, and no gap",
			events: []event{tweetAt(1), tweetAt(2), tweetAt(2), tweetAt(1), tweetAt(3)},
			want:   counts{live: 3, dups: 2},
		},
		{
			name:    "tweets up to the join's seq are backlog",
			joinSeq: 5,
			events:  []event{tweetAt(3), tweetAt(4), tweetAt(5), tweetAt(6)},
			want:    counts{live: 1, backlog: 3},
		},
		{
			name:    "a gap in the backlog is counted apart",
			joinSeq: 5,
			events:  []event{tweetAt(1), tweetAt(4), tweetAt(5), tweetAt(6)},
			want:    counts{live: 1, backlog: 3, backlogGaps: 2},
		},
		{
			name:    "a skipped range within the backlog is counted apart",
			joinSeq: 100,
			events:  []event{skippedAt(1, 90), tweetAt(91), tweetAt(100), tweetAt(101)},
			want:    counts{live: 1, backlog: 2, backlogGaps: 8, backlogSkipped: 90},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := roomTally{name: "golang", joinSeq: tt.joinSeq}
			var got counts
			for _, e := range tt.events {
				if e.to == 0 {
					v, missing := r.tweet(e.from)
					switch v {
					case live:
						got.live++
						got.lost += missing
					case backlog:
						got.backlog++
						got.backlogGaps += missing
					case duplicate:
						got.dups++
					}
					continue
				}
				missing, inBacklog := r.skipped(e.from, e.to)
				if inBacklog {
					got.backlogSkipped += e.to - e.from + 1
					got.backlogGaps += missing
				} else {
					got.skipped += e.to - e.from + 1
					got.lost += missing
				}
			}
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
		})
	}
}
