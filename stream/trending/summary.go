package trending

// summary counts the tags of one time bucket with the space-saving
// algorithm (Metwally, Agrawal and El Abbadi, "Efficient computation of
// frequent and top-k elements in data streams", 2005): it holds at most
// capacity counters, and when a new tag arrives while all are taken, the
// tag with the smallest count gives its counter up to the newcomer, which
// inherits that count plus one.
//
// So every count is an estimate that is never below the tag's true count,
// and over it by at most the count it inherited; a tag that is not held
// occurred at most floor() times. Any tag that occurred more than
// total/capacity times is held. While no more than capacity distinct tags
// arrive, every count is exact.
type summary struct {
	// bucket is the time bucket counted, valid while used is set.
	bucket int64
	used   bool
	// heap holds every counter, a min-heap on count, so that heap[0] is
	// the one to give up next.
	heap []*counter
	// index finds a tag's counter.
	index map[string]*counter
	// evicted is set once a counter has been given up: from then on a tag
	// that is not held may have occurred up to the smallest count.
	evicted bool
}

// counter is one tag's count, and where it sits in the heap.
type counter struct {
	tag   string
	count int
	pos   int
}

// reset empties s to count bucket, keeping its memory.
func (s *summary) reset(bucket int64) {
	s.bucket, s.used, s.evicted = bucket, true, false
	clear(s.index)
	for _, c := range s.heap {
		c.tag = "" // let go of the string
	}
	s.heap = s.heap[:0]
}

// add counts one occurrence of tag, and keeps tag when s did not hold it:
// the caller must own it, not borrow it from a larger string.
func (s *summary) add(tag string, capacity int) {
	if c := s.index[tag]; c != nil {
		s.bump(c)
		return
	}
	s.insert(tag, capacity)
}

// addBytes counts one occurrence of tag, copying it when s did not hold
// it; counting a tag s holds allocates nothing.
func (s *summary) addBytes(tag []byte, capacity int) {
	if c := s.index[string(tag)]; c != nil {
		s.bump(c)
		return
	}
	s.insert(string(tag), capacity)
}

// bump counts one more occurrence of c's tag.
func (s *summary) bump(c *counter) {
	c.count++
	s.down(c.pos)
}

// insert gives tag, which s does not hold, a counter: a new one while
// fewer than capacity (at least 1) are taken, and otherwise the smallest,
// whose count it inherits.
func (s *summary) insert(tag string, capacity int) {
	if s.index == nil {
		s.index = make(map[string]*counter, capacity)
	}
	if len(s.heap) < capacity {
		var c *counter
		if len(s.heap) < cap(s.heap) {
			c = s.heap[:len(s.heap)+1][len(s.heap)] // a counter from before reset
		}
		if c == nil {
			c = new(counter)
		}
		*c = counter{tag: tag, count: 1, pos: len(s.heap)}
		s.heap = append(s.heap, c)
		s.index[tag] = c
		s.up(c.pos)
		return
	}
	c := s.heap[0]
	delete(s.index, c.tag)
	s.evicted = true
	c.tag = tag
	c.count++
	s.index[tag] = c
	s.down(0)
}

// floor is the most times a tag that s does not hold can have occurred.
func (s *summary) floor() int {
	if !s.evicted || len(s.heap) == 0 {
		return 0
	}
	return s.heap[0].count
}

func (s *summary) less(i, j int) bool { return s.heap[i].count < s.heap[j].count }

func (s *summary) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.heap[i].pos, s.heap[j].pos = i, j
}

// up moves the counter at i towards the root while it is smaller than its
// parent.
func (s *summary) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			return
		}
		s.swap(i, parent)
		i = parent
	}
}

// down moves the counter at i towards the leaves while a child is smaller.
func (s *summary) down(i int) {
	n := len(s.heap)
	for {
		smallest := i
		if l := 2*i + 1; l < n && s.less(l, smallest) {
			smallest = l
		}
		if r := 2*i + 2; r < n && s.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			return
		}
		s.swap(i, smallest)
		i = smallest
	}
}
