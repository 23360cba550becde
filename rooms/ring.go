package rooms

// Ring is a fixed-size ring of a room's latest publications, oldest first,
// in seq order: the history a broker keeps for backlogs and recovery. It is
// not safe for concurrent use; its owner guards it.
type Ring struct {
	pubs  []Pub
	start int // index of the oldest publication
	n     int
}

// NewRing returns a ring that keeps the last size publications; a ring of
// size zero keeps none.
func NewRing(size int) *Ring { return &Ring{pubs: make([]Pub, max(size, 0))} }

// Cap returns how many publications the ring keeps.
func (r *Ring) Cap() int { return len(r.pubs) }

// Len returns how many publications the ring holds.
func (r *Ring) Len() int { return r.n }

// Push adds p, which must follow every publication held, dropping the
// oldest when the ring is full.
func (r *Ring) Push(p Pub) {
	if len(r.pubs) == 0 {
		return
	}
	if r.n < len(r.pubs) {
		r.pubs[(r.start+r.n)%len(r.pubs)] = p
		r.n++
		return
	}
	r.pubs[r.start] = p
	r.start = (r.start + 1) % len(r.pubs)
}

// Reset empties the ring.
func (r *Ring) Reset() {
	clear(r.pubs)
	r.start, r.n = 0, 0
}

func (r *Ring) at(i int) *Pub { return &r.pubs[(r.start+i)%len(r.pubs)] }

// Oldest returns the seq of the oldest publication held, or zero when the
// ring is empty.
func (r *Ring) Oldest() uint64 {
	if r.n == 0 {
		return 0
	}
	return r.at(0).Seq
}

// Newest returns the seq of the newest publication held, or zero when the
// ring is empty.
func (r *Ring) Newest() uint64 {
	if r.n == 0 {
		return 0
	}
	return r.at(r.n - 1).Seq
}

// AppendAfter appends every publication whose seq is above since, oldest
// first, retracted ones included, and returns the extended slice.
func (r *Ring) AppendAfter(dst []Pub, since uint64) []Pub {
	for i := range r.n {
		if p := r.at(i); p.Seq > since {
			dst = append(dst, *p)
		}
	}
	return dst
}

// Retract marks the publication for which match is true as retracted,
// dropping its frame and tweet, and returns its seq, or zero when the ring
// holds no such publication that is not retracted already.
func (r *Ring) Retract(match func(*Pub) bool) uint64 {
	for i := range r.n {
		if p := r.at(i); !p.Retracted && match(p) {
			p.Retracted, p.Frame, p.Tweet, p.Matched, p.msg = true, nil, nil, nil, nil
			return p.Seq
		}
	}
	return 0
}
