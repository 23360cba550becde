package twitter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestFailuresSayWhatHappenedAndPickTheirLadder(t *testing.T) {
	tests := []struct {
		err  error
		want string
		kind failureKind
	}{
		{&statusError{420}, "HTTP 420 Enhance Your Calm: rate limited for connecting too often", rateLimitFailure},
		{&statusError{429}, "HTTP 429 Too Many Requests: rate limited for connecting too often", rateLimitFailure},
		{&statusError{401}, "HTTP 401 Unauthorized: check the credentials, and that this machine's clock is right", httpFailure},
		{&statusError{503}, "HTTP 503 Service Unavailable: Twitter is having trouble", httpFailure},
		{&statusError{599}, "HTTP 599", httpFailure},
		{&connectError{errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
			"cannot connect: dial tcp 127.0.0.1:1: connect: connection refused", networkFailure},
		{&readError{errors.New("unexpected EOF")}, "the stream broke: unexpected EOF", networkFailure},
		{errStreamEnded, "the stream ended", networkFailure},
		{&stallError{after: defaultStallTimeout}, "no data for 1m30s", networkFailure},
		{&disconnectError{code: 7, reason: "admin logout"}, "Twitter closed the stream (code 7: admin logout)", networkFailure},
		{fmt.Errorf("wrapped: %w", &statusError{420}), "wrapped: HTTP 420 Enhance Your Calm: rate limited for connecting too often", rateLimitFailure},
	}
	for _, tt := range tests {
		if got := reasonOf(tt.err); got != tt.want {
			t.Errorf("reasonOf(%#v) = %q, want %q", tt.err, got, tt.want)
		}
		if got := kindOf(tt.err); got != tt.kind {
			t.Errorf("kindOf(%q) = %d, want %d", tt.err, got, tt.kind)
		}
	}
}

func TestReasonOfIsShort(t *testing.T) {
	long := errors.New("twitter: " + strings.Repeat("ä", 200))
	got := reasonOf(long)
	if len(got) > stream.MaxReasonBytes+len("…") || !utf8.ValidString(got) || strings.HasPrefix(got, "twitter:") {
		t.Errorf("reasonOf = %q (%d bytes): want at most %d bytes of valid UTF-8, without the prefix", got, len(got), stream.MaxReasonBytes)
	}
}
