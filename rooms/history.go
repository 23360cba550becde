package rooms

import "github.com/tweetstreamer/tweetstreamer/stream"

// record is one published tweet as a room remembers it.
type record struct {
	seq   uint64
	tweet stream.Tweet
	// matched lists every trend the tweet matched, for the cards a page
	// renders from history.
	matched []string
	frame   []byte // the encoded tweet message, shared with the queues
	// retracted marks a tweet withdrawn by its source: its seq stays taken,
	// so history remains contiguous, but it is sent to no one.
	retracted bool
}

// history is a fixed-size ring of a room's latest records, oldest first.
// The room's mutex guards it.
type history struct {
	ring  []record
	start int // index of the oldest record
	n     int
}

func newHistory(size int) history { return history{ring: make([]record, size)} }

func (h *history) push(r record) {
	if len(h.ring) == 0 {
		return
	}
	if h.n < len(h.ring) {
		h.ring[(h.start+h.n)%len(h.ring)] = r
		h.n++
		return
	}
	h.ring[h.start] = r
	h.start = (h.start + 1) % len(h.ring)
}

func (h *history) at(i int) *record { return &h.ring[(h.start+i)%len(h.ring)] }

// oldestSeq returns the seq of the oldest record, or zero when empty.
func (h *history) oldestSeq() uint64 {
	if h.n == 0 {
		return 0
	}
	return h.at(0).seq
}

// after calls fn with every record whose seq is above since, oldest first.
func (h *history) after(since uint64, fn func(*record)) {
	for i := range h.n {
		if r := h.at(i); r.seq > since {
			fn(r)
		}
	}
}

// retractedAfter counts the records above since that were retracted.
func (h *history) retractedAfter(since uint64) uint64 {
	var n uint64
	h.after(since, func(r *record) {
		if r.retracted {
			n++
		}
	})
	return n
}

// find returns the record of a tweet, or nil.
func (h *history) find(source, id string) *record {
	for i := range h.n {
		r := h.at(i)
		if !r.retracted && r.tweet.ID == id && r.tweet.Source == source {
			return r
		}
	}
	return nil
}
