package twitter

import (
	"bytes"
	"io"
)

const (
	// maxMessageBytes is the longest message the source passes on, not
	// counting its "\r\n". Twitter's largest messages, a quoted retweet
	// with every entity, take tens of KiB; a longer line is garbage, and
	// is dropped as it arrives, so it never costs more memory than this.
	maxMessageBytes = 1 << 20
	// bodyReadSize is how much one read from the connection asks for.
	bodyReadSize = 32 << 10
)

// streamBody wraps the body of a streaming response. It hands go-twitter
// whole messages only, each with its "\r\n", and drops any message longer
// than max, which go-twitter would otherwise read into memory whatever its
// length. It reports every read that brought bytes (keep-alive newlines
// count) to touch, each dropped message to dropped, and the end of the
// body (io.EOF or the read error) to end, once.
//
// Twitter ends every message with "\r\n"; a lone "\n" may occur inside a
// message, and does not end it.
type streamBody struct {
	body    io.ReadCloser
	max     int
	touch   func()
	dropped func(size int)
	end     func(err error)

	buf    []byte // one read from body
	line   []byte // the message being read, up to max+2 bytes
	out    []byte // whole messages; out[off:] is not yet read
	off    int
	long   int  // bytes of the too-long message being dropped; 0 if none
	lastCR bool // the last byte dropped was '\r'
	err    error
}

func newStreamBody(body io.ReadCloser, max int, touch func(), dropped func(int), end func(error)) *streamBody {
	return &streamBody{
		body: body, max: max, touch: touch, dropped: dropped, end: end,
		buf: make([]byte, bodyReadSize),
	}
}

func (b *streamBody) Read(p []byte) (int, error) {
	for b.off == len(b.out) {
		if b.err != nil {
			return 0, b.err
		}
		b.out, b.off = b.out[:0], 0
		n, err := b.body.Read(b.buf)
		if n > 0 {
			b.touch()
			b.frame(b.buf[:n])
		}
		if err != nil {
			b.finish(err)
		}
	}
	n := copy(p, b.out[b.off:])
	b.off += n
	return n, nil
}

// frame splits chunk at each '\n' and adds the pieces in turn.
func (b *streamBody) frame(chunk []byte) {
	for len(chunk) > 0 {
		piece := chunk
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			piece = chunk[:i+1]
		}
		chunk = chunk[len(piece):]
		b.add(piece)
	}
}

// add adds a piece of a message, which holds at most one '\n', at its end.
func (b *streamBody) add(piece []byte) {
	if b.long == 0 && len(b.line)+len(piece) <= b.max+len("\r\n") {
		b.line = append(b.line, piece...)
		if bytes.HasSuffix(b.line, []byte("\r\n")) {
			b.out = append(b.out, b.line...)
			b.line = b.line[:0]
		}
		return
	}
	// Too long: drop it, and what is left of it as it comes.
	if b.long == 0 {
		b.lastCR = bytes.HasSuffix(b.line, []byte("\r"))
		b.long, b.line = len(b.line), b.line[:0]
	}
	b.long += len(piece)
	ended := piece[len(piece)-1] == '\n' &&
		(len(piece) >= 2 && piece[len(piece)-2] == '\r' || len(piece) == 1 && b.lastCR)
	b.lastCR = piece[len(piece)-1] == '\r'
	if ended {
		b.dropped(b.long - len("\r\n"))
		b.long, b.lastCR = 0, false
	}
}

// finish records the end of the body. At a clean end, a last message
// without its "\r\n" is passed on, as go-twitter would read it.
func (b *streamBody) finish(err error) {
	if err == io.EOF {
		switch {
		case b.long > 0:
			b.dropped(b.long)
		case len(b.line) > 0:
			b.out = append(b.out, b.line...)
		}
	}
	b.line, b.long = nil, 0
	b.err = err
	b.end(err)
}

func (b *streamBody) Close() error { return b.body.Close() }
