package rooms

// entryOverhead is what one queued entry costs beyond its frame, counted
// against the byte limit so that many tiny messages cannot grow a queue
// without bound either.
const entryOverhead = 48

// entry is one queued message. Tweet frames are shared by every member of a
// room and never modified.
type entry struct {
	frame []byte // encoded message; nil for a skip
	room  *room  // the room of a tweet, a skip, or a room-scoped control message
	seq   uint64 // a tweet's seq; zero for other messages

	// A skip stands in, at the place of the oldest one, for tweets dropped
	// from this queue: they become one `skipped` message for from..to. An
	// encoded `skipped` message has its range in from..to too, for the
	// metrics.
	skip bool
	// packed marks a frame compressed on its own (see deflate.go), for a
	// connection that negotiated compression; the writer compresses any
	// other frame for such a connection itself.
	packed   bool
	from, to uint64

	// ingestedAt is when a live tweet was ingested, in Unix nanoseconds,
	// for the latency the writer observes; zero for anything else.
	ingestedAt int64
}

func (e *entry) isTweet() bool { return e.seq != 0 && !e.skip }

// skipped counts the tweets a skip, or a `skipped` message, stands for;
// zero for any other entry (a seq is never zero).
func (e *entry) skipped() uint64 {
	if e.to == 0 {
		return 0
	}
	return e.to - e.from + 1
}

// queue is a connection's bounded outbound queue. It never blocks: when the
// tweets in it pass limit bytes, the oldest tweets make way and are reported
// to the client as skipped, in the place they held, so every room's messages
// stay in order. Control messages are never dropped; a client that lets them
// pile up past hardLimit is one that does not read at all, and is closed.
// The owner guards it with a mutex.
type queue struct {
	entries []entry
	head    int // entries before head are consumed
	bytes   int
	limit   int
	// hardLimit bounds the queue whatever it holds.
	hardLimit int
	// dropped is set when a tweet was dropped since the last take.
	dropped bool
}

func newQueue(limit int) queue {
	return queue{limit: limit, hardLimit: 2 * limit}
}

// grow raises the limit to limit bytes, never lowering it.
func (q *queue) grow(limit int) {
	if limit > q.limit {
		q.limit, q.hardLimit = limit, 2*limit
	}
}

// push appends e, then drops the oldest tweets while over the limit. It
// reports false when the queue is past its hard limit even so.
func (q *queue) push(e entry) bool {
	if q.head > 0 && q.head >= len(q.entries)/2 {
		n := copy(q.entries, q.entries[q.head:])
		clear(q.entries[n:])
		q.entries, q.head = q.entries[:n], 0
	}
	q.entries = append(q.entries, e)
	q.bytes += len(e.frame) + entryOverhead
	for q.bytes > q.limit && q.dropOldestTweet() {
	}
	return q.bytes <= q.hardLimit
}

// dropOldestTweet turns the oldest queued tweet into a skip, or folds it
// into the skip just before it for the same room. It reports false when no
// tweet is left to drop.
func (q *queue) dropOldestTweet() bool {
	i := q.head
	for i < len(q.entries) && !q.entries[i].isTweet() {
		i++
	}
	if i == len(q.entries) {
		return false
	}
	e := &q.entries[i]
	q.bytes -= len(e.frame)
	q.dropped = true
	// Everything between head and i is a control message or a skip, and
	// there are few of them: look back for this room's skip, unless a
	// control message of the room (a leave, a join) stands between.
	for j := i - 1; j >= q.head; j-- {
		prev := &q.entries[j]
		if prev.room != e.room {
			continue
		}
		if prev.skip && prev.to+1 == e.seq {
			prev.to = e.seq
			// Close the gap at i by moving the short prefix up by one.
			q.bytes -= entryOverhead
			copy(q.entries[q.head+1:i+1], q.entries[q.head:i])
			q.entries[q.head] = entry{}
			q.head++
			return true
		}
		break
	}
	*e = entry{room: e.room, skip: true, from: e.seq, to: e.seq}
	return true
}

// take moves every queued entry into dst and empties the queue.
func (q *queue) take(dst []entry) []entry {
	dst = append(dst, q.entries[q.head:]...)
	clear(q.entries)
	q.entries, q.head, q.bytes = q.entries[:0], 0, 0
	return dst
}

// takeDropped reports whether tweets were dropped since it was last
// called, and starts counting afresh.
func (q *queue) takeDropped() bool {
	dropped := q.dropped
	q.dropped = false
	return dropped
}

// release lets an empty queue's storage go: an idle connection holds none.
func (q *queue) release() {
	if q.len() == 0 {
		q.entries, q.head = nil, 0
	}
}

func (q *queue) len() int { return len(q.entries) - q.head }
