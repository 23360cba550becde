package rooms

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// closeCodes are the codes a connection may end with when the client
// sends what it likes: the server's reasons (disconnect.go) for what a
// client does, and the library's 1009 for a message over the read limit.
var closeCodes = []int{
	DisconnectBadData.Code, DisconnectProtocol.Code, DisconnectTooSlow.Code, DisconnectUnsupported.Code,
	websocket.CloseMessageTooBig, websocket.CloseNormalClosure,
}

// errorLog is a log handler that keeps the last record at error level,
// which is how the reader reports a panic it recovered from.
type errorLog struct{ last atomic.Pointer[string] }

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	h.last.Store(&msg)
	return nil
}

func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

// clientCloseCodes returns the codes of the close frames among the whole
// frames data starts with, which the library echoes; ok is false when
// data holds a frame the reader leaves to the library (a ping, a
// fragment), after which any frame may follow unseen.
func clientCloseCodes(data []byte) (codes []int, ok bool) {
	for len(data) > 0 {
		kind, size := parseFrameHeader(data, false)
		if kind == frameOther || size > len(data) {
			return codes, kind != frameOther
		}
		if data[0]&0x0f == websocketClose && size >= 8 { // a close payload fits 7 bits
			mask, code := data[2:6], data[6:8]
			codes = append(codes, int(code[0]^mask[0])<<8|int(code[1]^mask[1]))
		}
		data = data[size:]
	}
	return codes, true
}

// FuzzFrameReader writes any bytes to the server as the client's side of
// an open WebSocket, then shuts that side, and checks that the server
// does not fail and does not hang: it ends the connection within the
// harness's bound, with no close frame (the client went away; the
// library reports 1006), an empty one (1005), or one whose
// code is a protocol one (1002, 1007, 1008, 1009), never 1011 (a panic
// while handling a message); and it logs no error.
func FuzzFrameReader(f *testing.F) {
	pong := clientFrame(true, websocket.PongMessage, "")
	big := `{"type":"join","room":"golang","pad":"` + strings.Repeat("x", maxMessageSize) + `"}`
	for _, seed := range [][]byte{
		joinFrame("golang"),
		slices.Concat(joinFrame("golang"), joinFrame("rust")),
		slices.Concat(pong, joinFrame("golang"), clientFrame(true, websocket.PongMessage, "abc")),
		clientFrame(true, websocket.PingMessage, "hello"),
		slices.Concat(clientFrame(false, websocket.TextMessage, `{"type":"join",`), clientFrame(true, 0, `"room":"golang"}`)),
		clientFrame(true, websocket.TextMessage, `{"type":"join","room":"golang","pad":"`+strings.Repeat("x", 300)+`"}`),
		clientFrame(true, websocket.TextMessage, big),
		clientFrame(true, websocket.CloseMessage, "\x03\xe8bye"),
		clientFrame(true, websocket.CloseMessage, "\x03"),
		clientFrame(true, websocket.CloseMessage, ""),
		clientFrame(true, websocket.TextMessage, "{\"type\":\"join\",\"room\":\"\xff\"}"),
		clientFrame(true, websocket.BinaryMessage, `{"type":"join","room":"golang"}`),
		append([]byte{0x81, 2}, "{}"...),                // unmasked
		{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0x10, 0},   // 64-bit length
		{0x81, 0x80 | 126, 0xff, 0xff, 1, 2, 3, 4, 'x'}, // longer than what follows
		{0xc1, 0x80, 1, 2, 3, 4},                        // a reserved bit
		{0x83, 0x80, 1, 2, 3, 4},                        // an unknown opcode
		{0x81},
		{},
	} {
		f.Add(seed)
	}
	errorLogs := new(errorLog)
	s := newTestServer(f, Config{
		MessageRate: 1e6, StatsInterval: time.Hour, FlushInterval: -1,
		Logger: slog.New(errorLogs),
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := s.dial(t)
		conn := c.conn.NetConn().(*net.TCPConn)
		// Either fails only once the server has closed the connection,
		// which it may do before it has read everything.
		_, _ = conn.Write(data)
		_ = conn.CloseWrite()
		err := c.closeError()
		s.waitNoClients(t)
		if logged := errorLogs.last.Swap(nil); logged != nil {
			t.Fatalf("the server logged an error: %s", *logged)
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code == websocket.CloseAbnormalClosure || ce.Code == websocket.CloseNoStatusReceived || slices.Contains(closeCodes, ce.Code) {
			return
		}
		echoed, known := clientCloseCodes(data)
		if known && !slices.Contains(echoed, ce.Code) || !known && ce.Code == websocket.CloseInternalServerErr {
			t.Fatalf("the server closed with %d %q, want one of %v or the client's own code", ce.Code, ce.Text, closeCodes)
		}
	})
}
