package rooms

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// ringPub is the publication at seq, with a frame, a tweet and trends, so
// that a retraction has something to clear.
func ringPub(seq uint64) Pub {
	id := fmt.Sprintf("id%d", seq)
	return Pub{
		Seq:     seq,
		Frame:   []byte(fmt.Sprintf(`{"type":"tweet","seq":%d}`, seq)),
		ID:      id,
		Tweet:   &stream.Tweet{ID: id, Source: "test"},
		Matched: []string{"golang"},
	}
}

// ringOf returns a ring of size holding the publications first..last.
func ringOf(size int, first, last uint64) *Ring {
	r := NewRing(size)
	for seq := first; seq <= last; seq++ {
		r.Push(ringPub(seq))
	}
	return r
}

func seqsOf(pubs []Pub) []uint64 {
	out := []uint64{}
	for _, p := range pubs {
		out = append(out, p.Seq)
	}
	return out
}

func TestRingKeepsTheLatestInOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		ring           *Ring
		len            int
		oldest, newest uint64
		held           []uint64
		wantCap        int
	}{
		{name: "an empty ring holds nothing and has no oldest or newest", ring: NewRing(3), held: []uint64{}, wantCap: 3},
		{name: "a ring under its capacity holds everything", ring: ringOf(3, 1, 2), len: 2, oldest: 1, newest: 2, held: []uint64{1, 2}, wantCap: 3},
		{name: "a ring at its capacity holds everything", ring: ringOf(3, 1, 3), len: 3, oldest: 1, newest: 3, held: []uint64{1, 2, 3}, wantCap: 3},
		{name: "pushing past capacity keeps the last N, oldest first", ring: ringOf(3, 1, 5), len: 3, oldest: 3, newest: 5, held: []uint64{3, 4, 5}, wantCap: 3},
		{name: "wrapping many times round still keeps the last N in order", ring: ringOf(4, 1, 103), len: 4, oldest: 100, newest: 103, held: []uint64{100, 101, 102, 103}, wantCap: 4},
		{name: "a ring of one keeps only the newest", ring: ringOf(1, 1, 7), len: 1, oldest: 7, newest: 7, held: []uint64{7}, wantCap: 1},
		{name: "a zero-size ring keeps nothing pushed", ring: ringOf(0, 1, 5), held: []uint64{}, wantCap: 0},
		{name: "a negative size is a zero-size ring", ring: ringOf(-2, 1, 5), held: []uint64{}, wantCap: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.ring
			if r.Len() != tt.len || r.Cap() != tt.wantCap {
				t.Errorf("Len, Cap = %d, %d; want %d, %d", r.Len(), r.Cap(), tt.len, tt.wantCap)
			}
			if r.Oldest() != tt.oldest || r.Newest() != tt.newest {
				t.Errorf("Oldest, Newest = %d, %d; want %d, %d", r.Oldest(), r.Newest(), tt.oldest, tt.newest)
			}
			if got := seqsOf(r.AppendAfter(nil, 0)); !slices.Equal(got, tt.held) {
				t.Errorf("held %v, want %v", got, tt.held)
			}
		})
	}
}

func TestRingPushKeepsEachPublicationWhole(t *testing.T) {
	t.Parallel()
	r := ringOf(2, 1, 3)
	got := r.AppendAfter(nil, 0)
	for i, seq := range []uint64{2, 3} {
		want := ringPub(seq)
		if got[i].Seq != seq || got[i].ID != want.ID || string(got[i].Frame) != string(want.Frame) || got[i].Tweet == nil || got[i].Tweet.ID != want.ID {
			t.Errorf("held[%d] = %+v, want %+v", i, got[i], want)
		}
	}
}

func TestRingAppendAfter(t *testing.T) {
	t.Parallel()
	full := ringOf(3, 1, 5) // holds 3, 4, 5
	tests := []struct {
		name  string
		since uint64
		want  []uint64
	}{
		{"since zero gives everything held", 0, []uint64{3, 4, 5}},
		{"since below the oldest gives everything held", 1, []uint64{3, 4, 5}},
		{"since just before the oldest gives everything held", 2, []uint64{3, 4, 5}},
		{"since the oldest gives what follows it", 3, []uint64{4, 5}},
		{"since just before the newest gives the newest alone", 4, []uint64{5}},
		{"since the newest gives nothing", 5, []uint64{}},
		{"since past the newest gives nothing", 99, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := seqsOf(full.AppendAfter(nil, tt.since)); !slices.Equal(got, tt.want) {
				t.Errorf("AppendAfter(%d) = %v, want %v", tt.since, got, tt.want)
			}
		})
	}
	t.Run("appending keeps what dst held, in front", func(t *testing.T) {
		dst := []Pub{ringPub(1)}
		if got := seqsOf(full.AppendAfter(dst, 3)); !slices.Equal(got, []uint64{1, 4, 5}) {
			t.Errorf("AppendAfter onto [1] = %v, want [1 4 5]", got)
		}
	})
	t.Run("an empty ring appends nothing and leaves dst as it was", func(t *testing.T) {
		if got := NewRing(3).AppendAfter(nil, 0); got != nil {
			t.Errorf("AppendAfter on an empty ring = %v, want nil", got)
		}
	})
}

func TestRingRetract(t *testing.T) {
	t.Parallel()
	byID := func(id string) func(*Pub) bool { return func(p *Pub) bool { return p.ID == id } }
	tests := []struct {
		name    string
		ring    *Ring
		match   func(*Pub) bool
		want    uint64
		marked  []uint64 // the seqs retracted afterwards
		stillIn []uint64 // every seq held afterwards, retracted or not
	}{
		{"a match is retracted and its seq returned", ringOf(3, 1, 3), byID("id2"), 2, []uint64{2}, []uint64{1, 2, 3}},
		{"a match past a wrap is found", ringOf(3, 1, 5), byID("id5"), 5, []uint64{5}, []uint64{3, 4, 5}},
		{"the oldest held, at the ring's start after a wrap, is found", ringOf(3, 1, 4), byID("id2"), 2, []uint64{2}, []uint64{2, 3, 4}},
		{"a publication already pushed out is not found", ringOf(3, 1, 5), byID("id1"), 0, nil, []uint64{3, 4, 5}},
		{"no match returns zero and changes nothing", ringOf(3, 1, 3), byID("nope"), 0, nil, []uint64{1, 2, 3}},
		{"only the first match is retracted", ringOf(3, 1, 3), func(*Pub) bool { return true }, 1, []uint64{1}, []uint64{1, 2, 3}},
		{"an empty ring retracts nothing", NewRing(3), byID("id1"), 0, nil, []uint64{}},
		{"a zero-size ring retracts nothing", ringOf(0, 1, 3), byID("id1"), 0, nil, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ring.Retract(tt.match); got != tt.want {
				t.Fatalf("Retract = %d, want %d", got, tt.want)
			}
			held := tt.ring.AppendAfter(nil, 0)
			if got := seqsOf(held); !slices.Equal(got, tt.stillIn) {
				t.Errorf("held %v after the retraction, want %v: a retracted seq stays taken", got, tt.stillIn)
			}
			var marked []uint64
			for _, p := range held {
				if !p.Retracted {
					if p.Frame == nil || p.Tweet == nil {
						t.Errorf("seq %d, not retracted, lost its frame or tweet", p.Seq)
					}
					continue
				}
				marked = append(marked, p.Seq)
				if p.Frame != nil || p.Tweet != nil || p.Matched != nil {
					t.Errorf("retracted seq %d kept frame %q, tweet %v, matched %v; want all nil", p.Seq, p.Frame, p.Tweet, p.Matched)
				}
				if p.ID == "" {
					t.Errorf("retracted seq %d lost its id", p.Seq)
				}
			}
			if !slices.Equal(marked, tt.marked) {
				t.Errorf("retracted seqs %v, want %v", marked, tt.marked)
			}
		})
	}
	t.Run("retracting the same publication again returns zero", func(t *testing.T) {
		r := ringOf(3, 1, 3)
		if got := r.Retract(byID("id2")); got != 2 {
			t.Fatalf("first Retract = %d, want 2", got)
		}
		if got := r.Retract(byID("id2")); got != 0 {
			t.Errorf("second Retract = %d, want 0", got)
		}
	})
	t.Run("a match skips what is retracted already and finds the next", func(t *testing.T) {
		r := ringOf(3, 1, 3)
		all := func(*Pub) bool { return true }
		for _, want := range []uint64{1, 2, 3, 0} {
			if got := r.Retract(all); got != want {
				t.Fatalf("Retract = %d, want %d", got, want)
			}
		}
	})
}

func TestRingReset(t *testing.T) {
	t.Parallel()
	r := ringOf(3, 1, 5)
	r.Reset()
	if r.Len() != 0 || r.Oldest() != 0 || r.Newest() != 0 || r.Cap() != 3 {
		t.Fatalf("after Reset: Len %d, Oldest %d, Newest %d, Cap %d; want 0, 0, 0, 3", r.Len(), r.Oldest(), r.Newest(), r.Cap())
	}
	if got := r.AppendAfter(nil, 0); len(got) != 0 {
		t.Fatalf("after Reset the ring holds %v", seqsOf(got))
	}
	if got := r.Retract(func(*Pub) bool { return true }); got != 0 {
		t.Fatalf("after Reset, Retract found seq %d", got)
	}
	t.Run("a reset ring fills again from its start", func(t *testing.T) {
		for seq := uint64(10); seq <= 14; seq++ {
			r.Push(ringPub(seq))
		}
		if got := seqsOf(r.AppendAfter(nil, 0)); !slices.Equal(got, []uint64{12, 13, 14}) {
			t.Errorf("after Reset and five pushes, held %v, want [12 13 14]", got)
		}
	})
}
