package rooms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A message that ends the connection may come with more after it, unread
// when the server is done. Closing a socket with data unread resets the
// connection, and the reset can discard the close frame before the client
// reads it: each of these clients sends on after its closing message and
// reads nothing until the server has let go of the connection, and still
// reads the close frame with its code, then the end of the stream.
func TestAClientThatSendsOnAfterItsClosingMessageStillReadsTheClose(t *testing.T) {
	t.Parallel()
	reserved := clientFrame(true, websocket.TextMessage, `{"type":"join","room":"golang"}`)
	reserved[0] |= 0x20 // RSV2: no extension gives it a meaning
	tests := []struct {
		name  string
		frame []byte
		code  int
	}{
		{"past the limit on the wire", clientFrame(true, websocket.TextMessage, strings.Repeat("x", 3*maxMessageSize)), websocket.CloseMessageTooBig},
		{"past the read limit", clientFrame(true, websocket.TextMessage, strings.Repeat("x", maxMessageSize+1)), websocket.CloseMessageTooBig},
		{"binary", clientFrame(true, websocket.BinaryMessage, "\xff"), websocket.CloseUnsupportedData},
		{"not UTF-8", clientFrame(true, websocket.TextMessage, "{\"type\":\"join\",\"room\":\"\xff\"}"), websocket.CloseInvalidFramePayloadData},
		{"a close of one byte", clientFrame(true, websocket.CloseMessage, "\x03"), websocket.CloseProtocolError},
		{"a reserved bit", reserved, websocket.CloseProtocolError},
	}
	// What follows each: enough that the server cannot have read it all
	// with the closing message.
	more := clientFrame(true, websocket.TextMessage, strings.Repeat("y", 2*maxMessageSize))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Config{})
			c := dialRaw(t, s)
			c.write(append(append(tt.frame, more...), more...))
			eventually(t, "the server lets go of the connection", func() bool {
				s.hub.mu.RLock()
				defer s.hub.mu.RUnlock()
				return len(s.hub.clients) == 0
			})
			for {
				op, payload, err := c.frame()
				if err != nil {
					t.Fatalf("the connection ended with %v before a close frame", err)
				}
				if op != websocket.CloseMessage {
					continue
				}
				if len(payload) < 2 {
					t.Fatalf("a close frame of %d bytes, want code %d", len(payload), tt.code)
				}
				if code := int(binary.BigEndian.Uint16(payload)); code != tt.code {
					t.Fatalf("closed with %d, want %d", code, tt.code)
				}
				break
			}
			if _, _, err := c.frame(); !errors.Is(err, io.EOF) {
				t.Errorf("after the close frame: %v, want the end of the stream", err)
			}
		})
	}
}

// recordingConn is a connection that keeps what is written to it.
type recordingConn struct {
	net.Conn
	written bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error)      { return c.written.Write(p) }
func (c *recordingConn) SetWriteDeadline(time.Time) error { return nil }

// Once a close frame is out, whoever wrote it, the writer's frames are
// dropped (RFC 6455 §5.5.1): the library writes its 1002 from the reader,
// while the writer may have a batch on its way.
func TestNoFrameOfTheWritersFollowsTheLibrarysClose(t *testing.T) {
	rc := &recordingConn{}
	fc := &frameConn{Conn: rc, budget: -1, handedOver: new(atomic.Int64), answered: true}
	text := []byte{0x81, 2, 'h', 'i'}
	if err := fc.writeBuffers([][]byte{text}, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	closeFrame := []byte{0x88, 2, 0x03, 0xea}
	if _, err := fc.Write(closeFrame); err != nil {
		t.Fatal(err)
	}
	if err := fc.writeBuffers([][]byte{text}, time.Now().Add(time.Second)); !errors.Is(err, errAfterClose) {
		t.Errorf("a frame after the close: %v, want errAfterClose", err)
	}
	if want := slices.Concat(text, closeFrame); !bytes.Equal(rc.written.Bytes(), want) {
		t.Errorf("wrote % x, want % x", rc.written.Bytes(), want)
	}
}

// A pong the library writes leaves the writer's frames to follow it.
func TestFramesFollowAPong(t *testing.T) {
	rc := &recordingConn{}
	fc := &frameConn{Conn: rc, budget: -1, handedOver: new(atomic.Int64), answered: true}
	if _, err := fc.Write([]byte{0x8a, 0}); err != nil {
		t.Fatal(err)
	}
	if err := fc.writeBuffers([][]byte{{0x81, 0}}, time.Now().Add(time.Second)); err != nil {
		t.Errorf("a frame after a pong: %v", err)
	}
}
