package twitter

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	tt "github.com/tweetstreamer/tweetstreamer/stream/twitter/twittertest"
)

// These tests pin the behaviour of go-twitter's own Stream that the source
// works around, so that an upgrade that changes it is noticed. They use
// go-twitter directly, against the fake server.

// upstreamFilter starts a go-twitter filter stream against srv, and
// returns every message it sends until it stops by itself.
func upstreamFilter(t *testing.T, srv *tt.Server) []any {
	t.Helper()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := &hostRewriter{base: newTransport(), hosts: map[string]*url.URL{twitterStreamHost: base}}
	client := twitter.NewClient(&http.Client{Transport: rewrite})
	st, err := client.Streams.Filter(&twitter.StreamFilterParams{Track: []string{"golang"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []any)
	go func() {
		var msgs []any
		for m := range st.Messages {
			msgs = append(msgs, m)
		}
		done <- msgs
	}()
	select {
	case msgs := <-done:
		st.Stop() // safe now: its goroutine has ended
		return msgs
	case <-time.After(waitLimit):
		t.Fatal("go-twitter's stream did not stop by itself")
		return nil
	}
}

// isError reports whether msg is an error that wraps a T.
func isError[T error](msg any) bool {
	err, ok := msg.(error)
	return ok && errors.As(err, new(T))
}

func TestGoTwitterStopsForGoodAfterANetworkError(t *testing.T) {
	srv := tt.NewServer(t, tt.Response{Steps: []tt.Step{tt.Abort()}})
	msgs := upstreamFilter(t, srv)
	if len(msgs) != 1 || !isError[*url.Error](msgs[0]) {
		t.Errorf("messages %v: want one error from the HTTP client", msgs)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests: want no retry", n)
	}
}

func TestGoTwitterStopsSilentlyOnAnUnexpectedStatus(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		srv := tt.NewServer(t, tt.Answer(code, ""))
		if msgs := upstreamFilter(t, srv); len(msgs) != 0 {
			t.Errorf("HTTP %d: messages %v, want none", code, msgs)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("HTTP %d: %d requests, want no retry", code, n)
		}
	}
}

func TestGoTwitterReconnectsByItselfAtTheEndOfAStream(t *testing.T) {
	ended := tt.Stream([]string{tt.Tweet("1", "amy", "hello")})
	srv := tt.NewServer(t, ended, ended, ended, tt.Answer(http.StatusUnauthorized, ""))
	msgs := upstreamFilter(t, srv)
	if len(msgs) != 3 {
		t.Errorf("messages %v: want the three tweets and nothing else", msgs)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d requests: want a reconnection after each end", n)
	}
}

func TestGoTwitterPassesMalformedJSONAsAnErrorAndGoesOn(t *testing.T) {
	srv := tt.NewServer(t,
		tt.Stream([]string{`{"text": "cut off`, tt.Tweet("1", "amy", "hello")}),
		tt.Answer(http.StatusUnauthorized, ""))
	msgs := upstreamFilter(t, srv)
	if len(msgs) != 2 || !isError[*json.SyntaxError](msgs[0]) {
		t.Fatalf("messages %v: want a JSON error, then the tweet", msgs)
	}
	if _, ok := msgs[1].(*twitter.Tweet); !ok {
		t.Errorf("second message %T, want the tweet", msgs[1])
	}
}

func TestGoTwitterReadsAMessageOfAnyLength(t *testing.T) {
	srv := tt.NewServer(t,
		tt.Stream([]string{tt.Enormous(4 * maxMessageBytes)}),
		tt.Answer(http.StatusUnauthorized, ""))
	msgs := upstreamFilter(t, srv)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the enormous one, whole", len(msgs))
	}
	if m, ok := msgs[0].(map[string]any); !ok || len(m["padding"].(string)) != 4*maxMessageBytes {
		t.Errorf("message %T: want the enormous one, whole", msgs[0])
	}
}
