package twitter

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Why a connection ends. Each failure says, in a few words and without a
// secret, what went wrong; its failureKind picks the backoff ladder.
var (
	// errStreamEnded: the upstream closed a stream that had connected.
	errStreamEnded = errors.New("the stream ended")
	// errRetracked: a retrack connected and replaced the connection.
	errRetracked = errors.New("replaced by a stream with the new trends")
	// errStopped: Stream is returning.
	errStopped = errors.New("the source stopped")
)

// statusError is an answer other than 200.
type statusError struct{ code int }

func (e *statusError) Error() string {
	msg := "HTTP " + strconv.Itoa(e.code)
	if text := http.StatusText(e.code); text != "" {
		msg += " " + text
	} else if e.code == 420 {
		msg += " Enhance Your Calm"
	}
	if hint := statusHint(e.code); hint != "" {
		msg += ": " + hint
	}
	return msg
}

// statusHint says what an HTTP status from Twitter usually means.
func statusHint(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return "check the credentials, and that this machine's clock is right"
	case http.StatusForbidden:
		return "the app is not allowed to use this endpoint"
	case http.StatusNotFound:
		return "check StreamURL and APIURL"
	case http.StatusNotAcceptable, http.StatusRequestedRangeNotSatisfiable:
		return "Twitter refused the request's parameters"
	case http.StatusRequestEntityTooLarge:
		return "the track list is too long"
	case 420, http.StatusTooManyRequests:
		return "rate limited for connecting too often"
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "Twitter is having trouble"
	}
	return ""
}

// connectError is a failure to get an answer at all.
type connectError struct{ err error }

func (e *connectError) Error() string { return "cannot connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// readError is a stream that broke while it was read.
type readError struct{ err error }

func (e *readError) Error() string { return "the stream broke: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// stallError is a stream that sent nothing, not even a keep-alive, for
// the stall timeout.
type stallError struct{ after time.Duration }

func (e *stallError) Error() string { return "no data for " + e.after.String() }

// disconnectError is a disconnect message: the upstream says why it is
// closing the stream.
type disconnectError struct {
	code   int64
	reason string
}

func (e *disconnectError) Error() string {
	msg := fmt.Sprintf("Twitter closed the stream (code %d", e.code)
	if e.reason != "" {
		msg += ": " + e.reason
	}
	return msg + ")"
}

// kindOf says which backoff ladder a failure climbs.
func kindOf(err error) failureKind {
	var se *statusError
	switch {
	case !errors.As(err, &se):
		return networkFailure
	case se.code == 420 || se.code == http.StatusTooManyRequests:
		return rateLimitFailure
	default:
		return httpFailure
	}
}

// reasonOf is err in plain words (see stream.FailureReason), without the
// package's prefix.
func reasonOf(err error) string {
	return strings.TrimPrefix(stream.FailureReason(err), "twitter: ")
}
