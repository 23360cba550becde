package main

// roomTally follows one room's seq for one client: it tells live tweets
// from the backlog a join sends, and counts what went missing. Only the
// client's reader goroutine uses it.
type roomTally struct {
	name string
	// joinSeq is the room's latest seq when the join took effect: the
	// tweets up to it are the join's backlog, and only later ones are live.
	joinSeq uint64
	// seen is set by the first tweet or skipped range: a gap counts only
	// from then on, since a client cannot know what came before.
	seen bool
	// last is the highest seq seen, a skipped range's end included.
	last uint64
}

// verdict says what a tweet was to the client that received it.
type verdict uint8

const (
	live      verdict = iota // published after the join
	backlog                  // from the room's history, sent with the join
	duplicate                // its seq was already seen, or passed
)

// tweet accounts for a tweet with seq: what it was, and how many seqs went
// missing right before it.
func (r *roomTally) tweet(seq uint64) (v verdict, missing uint64) {
	if r.seen && seq <= r.last {
		return duplicate, 0
	}
	if r.seen {
		missing = seq - r.last - 1
	}
	r.seen, r.last = true, seq
	if seq <= r.joinSeq {
		return backlog, missing
	}
	return live, missing
}

// skipped accounts for a skipped message covering from..to: the server said
// what it did not send, so those seqs are not gaps. It returns how many
// seqs went missing before the range without a word, and whether the range
// lies within the join's backlog.
func (r *roomTally) skipped(from, to uint64) (missing uint64, inBacklog bool) {
	if r.seen && from > r.last+1 {
		missing = from - r.last - 1
	}
	if !r.seen || to > r.last {
		r.seen, r.last = true, to
	}
	return missing, to <= r.joinSeq
}
