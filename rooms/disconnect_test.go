package rooms

import "testing"

// TestDisconnectsAreTheProtocolsCloseCodes pins each reason to the close
// code and words docs/PROTOCOL.md gives it: clients switch on them.
func TestDisconnectsAreTheProtocolsCloseCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		d      Disconnect
		code   int
		reason string
	}{
		{"shutting down is going away", DisconnectShutdown, 1001, "server shutting down"},
		{"a client that reads nothing is a policy violation", DisconnectTooSlow, 1008, "too slow"},
		{"a failure handling a message is an internal error", DisconnectInternal, 1011, "internal error"},
		{"a text message that is not UTF-8 is invalid payload data", DisconnectBadData, 1007, "text not UTF-8"},
		{"a binary message is unsupported data", DisconnectUnsupported, 1003, "binary messages are not accepted"},
		{"a framing rule broken is a protocol error", DisconnectProtocol, 1002, "protocol error"},
		{"a socket already gone gets no close frame", DisconnectGone, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.d.Code != tt.code || tt.d.Reason != tt.reason {
				t.Errorf("got %d %q, want %d %q", tt.d.Code, tt.d.Reason, tt.code, tt.reason)
			}
		})
	}
}
