package rooms

import (
	"bytes"
	stdflate "compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	kflate "github.com/klauspost/compress/flate"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// inflate decompresses a frame's payload as RFC 7692 §7.2.2 has the
// receiver do: with the sync flush's tail put back.
func inflate(t testing.TB, payload []byte) []byte {
	t.Helper()
	r := stdflate.NewReader(io.MultiReader(bytes.NewReader(payload), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflating % x: %v", payload, err)
	}
	return out
}

func TestFormsCompressedOnTheirOwnMakeOneFrame(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{
		[]byte(`{"type":"tweet","room":"golang","seq":1,"html":"<article>` + strings.Repeat("gopher ", 40) + `</article>"}`),
		[]byte(`{"type":"stats","room":"golang","members":3,"per_minute":12}`),
		[]byte(`{}`),
		bytes.Repeat([]byte("x"), 70<<10), // past a stateless block
	}
	for n := 1; n <= len(msgs); n++ {
		t.Run(fmt.Sprintf("%d messages", n), func(t *testing.T) {
			var payload []byte
			for i, m := range msgs[:n] {
				if i > 0 {
					payload = append(payload, packedNewline...)
				}
				payload = append(payload, deflateMessage(m)...)
			}
			if !bytes.HasSuffix(payload, []byte{0, 0, 0xff, 0xff}) {
				t.Fatalf("the frame does not end with a sync flush: % x", payload[max(0, len(payload)-8):])
			}
			got := inflate(t, payload[:len(payload)-syncFlushTail])
			if want := bytes.Join(msgs[:n], newline); !bytes.Equal(got, want) {
				t.Errorf("inflated %d bytes, want the %d bytes of the messages joined by newlines", len(got), len(want))
			}
		})
	}
}

// cardTexts are tweets unlike one another, as a room's are.
var cardTexts = []struct{ handle, name, text string }{
	{"gopher", "Gopher the Third", "Generics in #golang make this so much cleaner: https://go.dev/blog/intro-generics 🎉"},
	{"rustacean", "Ferris", "Rewrote the parser over the weekend; it is twice as fast and half the code. Borrow checker approves."},
	{"ana_dev", "Ana Souza", "Anyone else at the meetup tonight? Slides on structured concurrency are up, link in bio"},
	{"k8s_ops", "Ops Person", "PSA: the 3am pager was DNS. It is always DNS. #golang services recovered in 40s after the fix"},
	{"lin", "Lin Wei", "goroutine leak found with the new leak profile, one missing ctx.Done() in a select. Ten minutes, start to fix."},
	{"m_ross", "Maya Ross", "Hot take: error wrapping with %w is the best thing that happened to Go error handling"},
	{"tobi", "Tobias K.", "Our CI went from 14 minutes to 3 by caching the module downloads. Why did we wait so long"},
	{"devrel_sam", "Sam", "New blog post: profiling a WebSocket fan-out, and why write(2) was half the CPU #golang"},
}

// cardMessageN is the i-th of cardTexts as a tweet message of the page's
// variant, of a typical size.
func cardMessageN(i int) []byte {
	c := cardTexts[i%len(cardTexts)]
	id := fmt.Sprint(1849201934 + i)
	tw := stream.Tweet{
		ID: id, Source: "mock", Text: c.text,
		Author:    stream.Author{Handle: c.handle, Name: c.name},
		URL:       "https://example.com/" + c.handle + "/status/" + id,
		CreatedAt: time.Date(2026, 12, 3, 10, 0, i, 0, time.UTC), IngestedAt: time.Date(2026, 12, 3, 10, 0, i, 123456789, time.UTC),
	}
	html := `<article class="card" data-testid="card" data-id="` + id + `"><header><a class="author" href="https://example.com/` + c.handle + `" rel="noopener">` +
		`<span class="name">` + c.name + `</span> <span class="handle">@` + c.handle + `</span></a><time datetime="2026-12-03T10:00:00Z">10:00</time></header>` +
		`<p class="text">` + c.text + `</p></article>`
	render := func(stream.Tweet, []string) (string, error) { return html, nil }
	m := newTweetMessage(newTweetParts(&tw, []string{"golang"}, render, nil), []byte(`"golang"`), uint64(12345+i), nil)
	return m.form(variantCard, false)
}

// cardMessage is the first of cardMessageN.
func cardMessage() []byte { return cardMessageN(0) }

// BenchmarkDeflateMessage compares the compressor the server uses with
// klauspost's stateless one and the standard library's, reused from a pool
// as a server would, on one tweet message: what each costs once per
// message and room, and the ratio it gets.
func BenchmarkDeflateMessage(b *testing.B) {
	msg := cardMessage()
	b.Run("server", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		var out []byte
		for range b.N {
			out = deflateMessage(msg)
		}
		b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
	})
	b.Run("klauspost-stateless", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		var out appendWriter
		for range b.N {
			out = appendWriter(make([]byte, 0, len(msg)/2+16))
			_ = kflate.StatelessDeflate(&out, msg, false, nil)
		}
		b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
	})
	for _, level := range []int{stdflate.BestSpeed, stdflate.DefaultCompression} {
		b.Run(fmt.Sprintf("compress-flate-level-%d", level), func(b *testing.B) {
			pool := sync.Pool{New: func() any { w, _ := stdflate.NewWriter(nil, level); return w }}
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			var out appendWriter
			for range b.N {
				out = appendWriter(make([]byte, 0, len(msg)/2+16))
				w := pool.Get().(*stdflate.Writer)
				w.Reset(&out)
				_, _ = w.Write(msg)
				_ = w.Flush()
				pool.Put(w)
			}
			b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
		})
	}
}

// countingDialer is a dialer whose connections count the bytes they read.
func countingDialer(compress bool, read *atomic.Int64) *websocket.Dialer {
	return &websocket.Dialer{
		EnableCompression: compress,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, read: read}, nil
		},
	}
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func TestCompressingAndPlainClientsBothReceiveEverythingInOrder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	var plainBytes, packedBytes atomic.Int64
	plain := s.dialBy(t, countingDialer(false, &plainBytes), "", nil)
	packed := s.dialBy(t, countingDialer(true, &packedBytes), "", nil)
	if ext := packed.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("the compressing client was answered %q", ext)
	}
	if ext := plain.resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("the plain client was answered %q", ext)
	}
	const n = 300
	for _, c := range []*testClient{plain, packed} {
		c.join("golang")
	}
	startPlain, startPacked := plainBytes.Load(), packedBytes.Load()
	// Published at once, they queue up and go out several to a frame, and
	// a 60 KiB one among them makes frames of their own.
	for i := range n {
		tw := s.tweet(strings.Repeat("golang is fun ", 1+i%7))
		if i == n/2 {
			tw.Text = strings.Repeat("golang ", 60<<10/7)
		}
		s.hub.Publish(tw, []string{"golang"})
	}
	var got [2][]msg
	for i, c := range []*testClient{plain, packed} {
		for range n {
			got[i] = append(got[i], c.expect("tweet", "golang"))
		}
	}
	for i := range n {
		p, z := got[0][i], got[1][i]
		if p.Seq != uint64(i+1) || z.Seq != p.Seq || z.Tweet.ID != p.Tweet.ID || z.HTML != p.HTML || z.Tweet.Text != p.Tweet.Text {
			t.Fatalf("message %d: plain %v, compressed %v", i, p, z)
		}
	}
	if plain.frames.Load() >= n || packed.frames.Load() >= n {
		t.Errorf("%d and %d frames for %d tweets each: the messages were not coalesced", plain.frames.Load(), packed.frames.Load(), n)
	}
	plainRead, packedRead := plainBytes.Load()-startPlain, packedBytes.Load()-startPacked
	if packedRead*2 > plainRead {
		t.Errorf("the compressing client read %d bytes, the plain one %d: not half", packedRead, plainRead)
	}
	t.Logf("bytes read: plain %d, compressed %d (%.0f%%)", plainRead, packedRead, 100*float64(packedRead)/float64(plainRead))
}

func TestACompressedClientMessageIsReadAndTheReaderStillPeeks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dialBy(t, &websocket.Dialer{EnableCompression: true}, "", nil)
	c.conn.EnableWriteCompression(true)
	// A message long enough that the library compresses it for sure.
	join := `{"type":"join","room":"golang","pad":"` + strings.Repeat("x", 600) + `"}`
	c.send(join)
	if j, _ := c.expectJoined(); j.Room != "golang" {
		t.Fatalf("got %v", j)
	}
	c.handled()
	if n := s.hub.handedOver.Load(); n != 0 {
		t.Errorf("%d connections handed over to the library: a compressed message is not unusual", n)
	}
}

func TestACompressedMessageThatGrowsPastTheLimitClosesWith1009(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dialBy(t, &websocket.Dialer{EnableCompression: true}, "", nil)
	c.conn.EnableWriteCompression(true)
	// About a hundred bytes on the wire, a megabyte decompressed.
	c.send(`{"type":"join","room":"` + strings.Repeat(" ", 1<<20) + `"}`)
	var ce *websocket.CloseError
	if err := c.closeError(); !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("closed with %v, want 1009", err)
	}
	eventually(t, "the close is counted", func() bool {
		return s.hub.Metrics().ConnectionsClosed[DisconnectTooBig.Name] == 1
	})
}

func TestAMessageIsCompressedOnceWhateverTheMembers(t *testing.T) {
	t.Parallel()
	for _, members := range []int{1, 50} {
		t.Run(fmt.Sprintf("%d members", members), func(t *testing.T) {
			t.Parallel()
			h := benchHub(t)
			clients := joinBenchClients(t, h, members, variantCard, true)
			before := h.counters.compressed.Load()
			h.Publish(stream.Tweet{ID: "1", Source: "test", Text: "golang"}, []string{"golang"})
			if n := h.counters.compressed.Load() - before; n != 1 {
				t.Errorf("%d compressions for one tweet to %d members, want 1", n, members)
			}
			var first []byte
			for _, c := range clients {
				c.mu.Lock()
				batch := c.q.take(nil)
				c.mu.Unlock()
				e := batch[len(batch)-1]
				if !e.packed || !e.isTweet() {
					t.Fatalf("queued %+v, want a compressed tweet", e)
				}
				if first == nil {
					first = e.frame
				} else if &first[0] != &e.frame[0] {
					t.Fatal("members hold different copies of the compressed message")
				}
			}
		})
	}
}

// BenchmarkCoalescingChoices weighs the ways compression can meet the
// coalescing of a connection's messages into one frame, for a flush that
// gives each of a room's members the same eight messages of the page's
// variant, of eight different tweets: each
// message compressed once for every member and the forms joined into one
// frame (what the writer does), against the whole frame compressed once
// per member, which compresses better but costs each member a compression.
// It reports the bytes on the wire per message and the CPU per delivery.
func BenchmarkCoalescingChoices(b *testing.B) {
	msgs := make([][]byte, 8)
	for i := range msgs {
		msgs[i] = cardMessageN(i)
	}
	for _, members := range []int{10, 1000} {
		b.Run(fmt.Sprintf("once-per-message/members=%d", members), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for range b.N {
				forms := make([][]byte, len(msgs))
				for i, m := range msgs {
					forms[i] = deflateMessage(m)
				}
				for range members {
					size = 0
					for i, f := range forms {
						if i > 0 {
							size += len(packedNewline)
						}
						size += len(f)
					}
				}
			}
			b.ReportMetric(float64(size-syncFlushTail)/float64(len(msgs)), "wire-bytes/msg")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members*len(msgs)), "ns/delivery")
		})
		b.Run(fmt.Sprintf("once-per-frame-and-member/members=%d", members), func(b *testing.B) {
			b.ReportAllocs()
			frame := bytes.Join(msgs, newline)
			size := 0
			for range b.N {
				for range members {
					size = len(deflateMessage(frame))
				}
			}
			b.ReportMetric(float64(size-syncFlushTail)/float64(len(msgs)), "wire-bytes/msg")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members*len(msgs)), "ns/delivery")
		})
	}
	b.Run("plain", func(b *testing.B) {
		b.ReportMetric(float64(len(bytes.Join(msgs, newline)))/float64(len(msgs)), "wire-bytes/msg")
	})
}

// TestACompressedMessageLongOnTheWireClosesWith1009: a compressed message
// is bounded on the wire as well as once decompressed. Deflate's empty
// stored blocks (five bytes each, nothing out) make a message of any
// length on the wire that decompresses to a short join; the server must
// not read megabytes of it.
func TestACompressedMessageLongOnTheWireClosesWith1009(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dialBy(t, &websocket.Dialer{EnableCompression: true}, "", nil)
	join := []byte(`{"type":"join","room":"golang"}`)
	empty := []byte{0x00, 0x00, 0x00, 0xff, 0xff} // a stored block of no bytes, not final
	var payload []byte
	for len(payload) < 4<<20 {
		payload = append(payload, empty...)
	}
	payload = append(payload, 0x01, byte(len(join)), 0x00, ^byte(len(join)), 0xff) // the last block
	payload = append(payload, join...)
	// FIN, RSV1, text; masked with a zero key, which leaves the payload as is.
	frame := []byte{0xc1, 0x80 | 127}
	frame = binary.BigEndian.AppendUint64(frame, uint64(len(payload)))
	frame = append(frame, 0, 0, 0, 0)
	frame = append(frame, payload...)
	if _, err := c.conn.UnderlyingConn().Write(frame); err != nil {
		// A server that stops reading early may reset the connection.
		t.Logf("writing the frame: %v", err)
	}
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("closed with %v, want 1009", err)
			}
			return
		}
		if m.Type == "joined" {
			t.Fatalf("a message of %d bytes on the wire was read whole and handled", len(payload))
		}
	}
}

// TestAMessageCompressedAfterOthersInflatesOnItsOwn: the compressor is
// reused from a pool, and what it compressed before must not be referred
// to: each message inflates with a fresh reader, whatever came before it
// on the same goroutine or on others.
func TestAMessageCompressedAfterOthersInflatesOnItsOwn(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				// Messages alike, so that a carried history would be used.
				msg := cardMessageN(g*50 + i)
				form := deflateMessage(msg)
				r := stdflate.NewReader(io.MultiReader(bytes.NewReader(form), strings.NewReader("\x01\x00\x00\xff\xff")))
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("message %d of goroutine %d inflated to %d bytes (%v), want %d", i, g, len(got), err, len(msg))
					return
				}
			}
		}()
	}
	wg.Wait()
}
