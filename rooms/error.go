package rooms

import (
	"errors"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Error is a refusal as a client sees it: Code is one of the protocol's
// (CodeBadRoom, ...) and Message is written for the person reading it. A
// Broker or a TrendSet that wants a client told something returns one;
// every other error stays on the server (see Refusal).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Refusal returns what a client may be told of err: the *Error it wraps, or
// for a trend set's refusal (a *stream.TrendError) CodeTooManyTrends or
// CodeBadRoom with its reason. It reports false for any other error, whose
// text is the server's own: the caller logs it and tells the client
// something general instead, so that no internal error (a broker's, a
// network's) ever reaches a client.
func Refusal(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	var te *stream.TrendError
	if errors.As(err, &te) {
		code := CodeBadRoom
		if errors.Is(te.Kind, stream.ErrTooManyTrends) {
			code = CodeTooManyTrends
		}
		return &Error{Code: code, Message: te.Error()}, true
	}
	return nil, false
}

// errUnavailable is what a client is told when a join failed inside.
var errUnavailable = &Error{Code: CodeUnavailable, Message: "this room is unavailable right now: join again in a moment"}
