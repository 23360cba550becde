package rooms

import (
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A connection that negotiated permessage-deflate (RFC 7692) reads every
// message compressed without context takeover: each on its own, so that
// one compressed form serves every member that reads it. A form ends with
// a sync flush, an empty stored block (00 00 ff ff) that leaves it on a
// byte boundary, so forms follow one another as one deflate stream: a
// frame of several messages is their forms with the form of "\n" between,
// less the last four bytes, which RFC 7692 §7.2.1 has the sender drop and
// the receiver put back.
//
// The compressor is klauspost/compress's, at level 5, reset for each
// message so that none refers to another, as no context takeover asks:
// on a card message it costs what the package's stateless compressor does
// and makes forms 3 to 5 % smaller, and half what compress/flate costs at
// the same ratio (see BenchmarkDeflateMessage). A message is compressed
// once for all its readers, so a better ratio is worth more than speed.

// deflateLevel is the compressor's level; see above.
const deflateLevel = 5

// deflaters lends compressors, which are large, to whoever compresses.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, deflateLevel)
	if err != nil {
		panic("rooms: a compressor at level 5: " + err.Error())
	}
	return w
}}

// deflateMessage returns msg compressed on its own, ending in a sync
// flush.
func deflateMessage(msg []byte) []byte {
	out := appendWriter(make([]byte, 0, len(msg)/2+16))
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&out)
	_, werr := w.Write(msg)
	ferr := w.Flush()
	w.Reset(io.Discard) // hold no reference to out
	deflaters.Put(w)
	if err := errors.Join(werr, ferr); err != nil {
		// Writing to memory cannot fail.
		panic("rooms: compressing a message: " + err.Error())
	}
	return out
}

// appendWriter is an io.Writer that appends to itself.
type appendWriter []byte

func (w *appendWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

// packedNewline is the form of the "\n" between two messages of a frame.
var packedNewline = deflateMessage(newline)

// syncFlushTail ends every form; a frame's payload leaves out its last.
const syncFlushTail = 4

// sharedFrame is a message queued for many connections (a trend list, a
// room's stats, an announcement), compressed at most once, for those that
// read compressed messages.
type sharedFrame struct {
	plain  []byte
	once   sync.Once
	packed []byte
}

func newSharedFrame(plain []byte) *sharedFrame { return &sharedFrame{plain: plain} }

// entryFor is the message as c reads it, for room r (nil for none).
func (s *sharedFrame) entryFor(c *client, r *room) entry {
	if !c.packed {
		return entry{frame: s.plain, room: r}
	}
	s.once.Do(func() {
		s.packed = deflateMessage(s.plain)
		c.hub.counters.compressed.Add(1)
	})
	return entry{frame: s.packed, room: r, packed: true}
}
