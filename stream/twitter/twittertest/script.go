package twittertest

import (
	"net/http"
	"strings"
)

// Response is how the server answers one request: a status, then steps.
// The status line and headers go out, flushed, at a Headers step or just
// before the first step that writes; so a Wait or a Stall before any
// write holds the answer back, and an Abort before any write leaves the
// request without one. The body is then sent with chunked encoding, each
// write flushed as one chunk. A response that never writes goes out when
// its steps run out, with Content-Length: 0.
type Response struct {
	// Status is the HTTP status; zero means 200.
	Status int
	Steps  []Step
}

// Answer is a response of status with body.
func Answer(status int, body string) Response {
	return Response{Status: status, Steps: []Step{Raw(body)}}
}

// Stream is a 200 response that sends each message in turn, then steps.
func Stream(messages []string, then ...Step) Response {
	steps := make([]Step, 0, len(messages)+len(then))
	for _, m := range messages {
		steps = append(steps, Message(m))
	}
	return Response{Steps: append(steps, then...)}
}

// Repeat returns n copies of r.
func Repeat(n int, r Response) []Response {
	list := make([]Response, n)
	for i := range list {
		list[i] = r
	}
	return list
}

// Step is one thing the server does while it answers.
type Step struct {
	kind  stepKind
	data  string
	size  int
	until <-chan struct{}
}

type stepKind int

const (
	stepWrite stepKind = iota
	stepHeaders
	stepChunks
	stepWait
	stepStall
	stepAbort
)

// Message sends msg and the "\r\n" that ends every message of the
// stream, as one chunk.
func Message(msg string) Step { return Step{kind: stepWrite, data: msg + "\r\n"} }

// KeepAlive sends a blank line, which Twitter sends every 30 seconds on
// a quiet stream.
func KeepAlive() Step { return Step{kind: stepWrite, data: "\r\n"} }

// Raw sends data as it is, as one chunk.
func Raw(data string) Step { return Step{kind: stepWrite, data: data} }

// Chunks sends data in chunks of size bytes, each flushed on its own, so
// that messages, and their "\r\n", are split across reads.
func Chunks(size int, data string) Step {
	return Step{kind: stepChunks, data: data, size: max(size, 1)}
}

// Burst joins messages, each with its "\r\n", and sends them in chunks
// of size bytes.
func Burst(size int, messages ...string) Step {
	return Chunks(size, strings.Join(messages, "\r\n")+"\r\n")
}

// Headers sends the status line and headers now, if no step has yet.
func Headers() Step { return Step{kind: stepHeaders} }

// Wait pauses until until is closed.
func Wait(until <-chan struct{}) Step { return Step{kind: stepWait, until: until} }

// Stall sends nothing more, not even keep-alives, and holds the
// connection open until the client leaves. Steps after it are not run.
func Stall() Step { return Step{kind: stepStall} }

// Abort drops the connection at once, without ending the response
// properly: before any write, the client gets no answer at all; after,
// the body breaks off.
func Abort() Step { return Step{kind: stepAbort} }

// serve runs r on w. It returns when the steps run out, the client
// leaves, or quit is closed.
func (r Response) serve(w http.ResponseWriter, req *http.Request, quit <-chan struct{}) {
	rc := http.NewResponseController(w)
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	started := false
	header := func() {
		started = true
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
	}
	start := func() bool {
		if !started {
			header()
			return rc.Flush() == nil
		}
		return true
	}
	write := func(data string) bool {
		if _, err := w.Write([]byte(data)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for _, step := range r.Steps {
		switch step.kind {
		case stepWrite:
			if !start() || !write(step.data) {
				return
			}
		case stepHeaders:
			if !start() {
				return
			}
		case stepChunks:
			if !start() {
				return
			}
			for data := step.data; data != ""; {
				n := min(step.size, len(data))
				if !write(data[:n]) {
					return
				}
				data = data[n:]
			}
		case stepWait:
			select {
			case <-step.until:
			case <-req.Context().Done():
				return
			case <-quit:
				return
			}
		case stepStall:
			select {
			case <-req.Context().Done():
			case <-quit:
			}
			return
		case stepAbort:
			// net/http closes the connection without a word, and
			// without logging.
			panic(http.ErrAbortHandler)
		}
	}
	if !started {
		header() // unflushed, so that an empty body has Content-Length: 0
	}
}
