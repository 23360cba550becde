package twitter

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader returns data in reads of at most size bytes, then err.
type chunkReader struct {
	data string
	size int
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p[:min(len(p), r.size)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func (r *chunkReader) Close() error { return nil }

// bodyResult is what a streamBody passed on and reported.
type bodyResult struct {
	out     string
	touches int
	dropped []int
	ends    []error
	err     error
}

func readBody(data string, chunk, max int, end error) bodyResult {
	var res bodyResult
	b := newStreamBody(&chunkReader{data: data, size: chunk, err: end}, max,
		func() { res.touches++ },
		func(n int) { res.dropped = append(res.dropped, n) },
		func(err error) { res.ends = append(res.ends, err) })
	// Read a byte at a time too, so that handing out is split as well.
	out, err := io.ReadAll(iotest.OneByteReader(b))
	res.out, res.err = string(out), err
	return res
}

func TestStreamBodyPassesWholeMessages(t *testing.T) {
	const stream = "\r\n" + `{"a":1}` + "\r\n" + `{"b":"two` + "\n" + `lines"}` + "\r\n\r\n" + `{"c":3}` + "\r\n"
	for _, chunk := range []int{1, 2, 3, 7, 9, 10, 1 << 10} {
		res := readBody(stream, chunk, 64, io.EOF)
		if res.out != stream || res.err != nil {
			t.Errorf("chunks of %d: passed %q, %v; want the stream unchanged", chunk, res.out, res.err)
		}
		if want := (len(stream) + chunk - 1) / chunk; res.touches != want {
			t.Errorf("chunks of %d: %d touches, want one per read (%d)", chunk, res.touches, want)
		}
		if len(res.dropped) != 0 || !slices.Equal(res.ends, []error{io.EOF}) {
			t.Errorf("chunks of %d: dropped %v, ends %v", chunk, res.dropped, res.ends)
		}
	}
}

func TestStreamBodyDropsTooLongMessages(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name        string
		stream      string
		want        string
		wantDropped []int
	}{
		{"a long message between two short ones",
			"{1}\r\n" + long + "\r\n{2}\r\n", "{1}\r\n{2}\r\n", []int{40}},
		{"a message of exactly the limit passes",
			strings.Repeat("y", 16) + "\r\n", strings.Repeat("y", 16) + "\r\n", nil},
		{"one byte over the limit",
			strings.Repeat("y", 17) + "\r\n{2}\r\n", "{2}\r\n", []int{17}},
		{"a lone newline inside a long message does not end it",
			long + "\n" + long + "\r\n{2}\r\n", "{2}\r\n", []int{81}},
		{"two long messages in a row",
			long + "\r\n" + long + "\r\n{3}\r\n", "{3}\r\n", []int{40, 40}},
		{"a long last message without its line end",
			"{1}\r\n" + long, "{1}\r\n", []int{40}},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 5, 17, 18, 1 << 10} {
			res := readBody(tt.stream, chunk, 16, io.EOF)
			if res.out != tt.want || !slices.Equal(res.dropped, tt.wantDropped) {
				t.Errorf("%s, chunks of %d: passed %q, dropped %v; want %q, %v",
					tt.name, chunk, res.out, res.dropped, tt.want, tt.wantDropped)
			}
		}
	}
}

func TestStreamBodyPassesALastMessageWithoutLineEnd(t *testing.T) {
	res := readBody("{1}\r\n{2}", 3, 16, io.EOF)
	if res.out != "{1}\r\n{2}" || res.err != nil {
		t.Errorf("passed %q, %v; want both messages, as go-twitter reads them", res.out, res.err)
	}
}

func TestStreamBodyReportsABreakOnce(t *testing.T) {
	broken := errors.New("connection reset by peer")
	res := readBody("{1}\r\n{2, half", 4, 16, broken)
	if res.out != "{1}\r\n" {
		t.Errorf("passed %q, want the whole message only", res.out)
	}
	if !errors.Is(res.err, broken) || !slices.Equal(res.ends, []error{broken}) {
		t.Errorf("read error %v, ends %v; want the break, reported once", res.err, res.ends)
	}
}
