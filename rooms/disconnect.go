package rooms

import "github.com/gorilla/websocket"

// Disconnect is why the server ends a connection: the close code and
// reason its close frame carries. The values below are every reason the
// server has; a client can switch on the code.
type Disconnect struct {
	// Name identifies the reason in metrics: a word that never changes.
	Name string
	// Code is the WebSocket close code; zero sends no close frame.
	Code int
	// Reason says why, in a few words a client may show.
	Reason string
}

// The reasons the server ends a connection.
var (
	// DisconnectShutdown: the server is shutting down (1001, going away).
	DisconnectShutdown = Disconnect{Name: "shutdown", Code: websocket.CloseGoingAway, Reason: "server shutting down"}
	// DisconnectTooSlow: the client read nothing while its queue passed
	// twice its bound (1008, policy violation).
	DisconnectTooSlow = Disconnect{Name: "too_slow", Code: websocket.ClosePolicyViolation, Reason: "too slow"}
	// DisconnectBadData: a text message that is not UTF-8 (1007, invalid
	// frame payload data), which RFC 6455 §8.1 says fails the connection.
	DisconnectBadData = Disconnect{Name: "bad_data", Code: websocket.CloseInvalidFramePayloadData, Reason: "text not UTF-8"}
	// DisconnectUnsupported: a binary message, where the protocol's are
	// text (1003, unsupported data).
	DisconnectUnsupported = Disconnect{Name: "unsupported", Code: websocket.CloseUnsupportedData, Reason: "binary messages are not accepted"}
	// DisconnectProtocol: the client broke the framing rules, such as
	// with a close frame of one byte, or sent a compressed message that
	// does not inflate (1002, protocol error). For a frame the library
	// refuses, the close frame is the library's.
	DisconnectProtocol = Disconnect{Name: "protocol", Code: websocket.CloseProtocolError, Reason: "protocol error"}
	// DisconnectTooBig: a message past the read limit, a compressed one
	// counted as it is decompressed (1009, message too big).
	DisconnectTooBig = Disconnect{Name: "too_big", Code: websocket.CloseMessageTooBig, Reason: "message too big"}
	// DisconnectRoomless: the connection stayed in no room for
	// RoomlessTimeout (1000, normal closure: nothing went wrong).
	DisconnectRoomless = Disconnect{Name: "roomless", Code: websocket.CloseNormalClosure, Reason: "idle: in no room"}
	// DisconnectInternal: handling a client message failed (1011).
	DisconnectInternal = Disconnect{Name: "internal", Code: websocket.CloseInternalServerErr, Reason: "internal error"}
	// DisconnectGone: the socket failed or the client left; there is no
	// one to send a close frame to.
	DisconnectGone = Disconnect{Name: "gone"}
)
