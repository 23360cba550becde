package rooms

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestRefusalTellsAClientOnlyWhatIsMeantForIt(t *testing.T) {
	t.Parallel()
	_, badTrend := stream.NormalizeTrend("\x01")
	full := &stream.TrendError{Kind: stream.ErrTooManyTrends, Reason: "this server follows at most 3"}
	tests := []struct {
		name     string
		err      error
		wantOK   bool
		wantCode string
		wantMsg  string
	}{
		{"an Error, however wrapped, is told as it is", fmt.Errorf("broker at 10.0.0.7: %w", &Error{Code: CodeUnavailable, Message: "the room is moving"}), true, CodeUnavailable, "the room is moving"},
		{"a bad trend is bad_room with its reason only", fmt.Errorf("store 10.0.0.7: %w", badTrend), true, CodeBadRoom, "bad trend: control character U+0001 is not allowed"},
		{"a full trend set is too_many_trends with its reason only", fmt.Errorf("redis: %w", full), true, CodeTooManyTrends, "too many trends: this server follows at most 3"},
		{"a bare sentinel carries no reason meant for anyone", fmt.Errorf("redis 10.0.0.7: %w", stream.ErrBadTrend), false, "", ""},
		{"any other error is the server's own", errors.New("dial tcp 10.0.0.7:4222: connection refused"), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := Refusal(tt.err)
			if ok != tt.wantOK {
				t.Fatalf("Refusal(%v) ok = %v, want %v", tt.err, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if e.Code != tt.wantCode || e.Message != tt.wantMsg {
				t.Fatalf("Refusal = %+v, want code %s and message %q", e, tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(e.Message, "10.0.0.7") || strings.Contains(e.Message, "redis") {
				t.Fatalf("message %q carries what wrapped the refusal", e.Message)
			}
		})
	}
}

func TestABrokersOwnRefusalReachesTheClient(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	s := newBrokerServer(t, b, Config{})
	b.fail(fmt.Errorf("natsbroker: asking 10.0.0.7: %w", &Error{Code: CodeUnavailable, Message: "the history is being moved: join again in a minute"}))
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	m := c.expect("error", "golang")
	if m.Code != CodeUnavailable || m.Message != "the history is being moved: join again in a minute" {
		t.Fatalf("error %+v, want the broker's refusal as it wrote it", m)
	}
}
