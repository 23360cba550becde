package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

const (
	// pongWait is how long the connection may stay silent before it is
	// given up for dead. Jetstream carries tens of posts a second and
	// answers pings, so a minute of silence means the connection is gone.
	pongWait = time.Minute
	// pingPeriod must be less than pongWait, so that on a quiet connection
	// the pong arrives before the read deadline passes.
	pingPeriod = pongWait / 2
	// writeWait bounds every ping, so that a stuck connection never holds
	// its writer.
	writeWait = 10 * time.Second
	// closeWait bounds the goodbye sent when Stream's context is done, so
	// that Stream returns promptly even when the peer has stopped reading.
	closeWait = 500 * time.Millisecond
	// handshakeTimeout bounds the dial and the WebSocket handshake.
	handshakeTimeout = 15 * time.Second
	// maxEventBytes is the largest event the source decodes; a larger one
	// is skipped, counted as malformed, and the connection kept. A post
	// takes a few KiB.
	maxEventBytes = 1 << 20
	// readLimit is the largest message the connection takes at all:
	// beyond it the connection is dropped. Messages between maxEventBytes
	// and readLimit are read and thrown away without being kept.
	readLimit = 16 << 20
)

// errTooLarge reports an event longer than maxEventBytes.
var errTooLarge = fmt.Errorf("longer than %d bytes", maxEventBytes)

// refusedError reports a subscription the server refused with an HTTP
// status that retrying soon will not change.
type refusedError struct {
	status int
}

func (e *refusedError) Error() string {
	return "the server refused the subscription: HTTP " + strconv.Itoa(e.status) + " " + http.StatusText(e.status)
}

// connect runs one connection: it dials, then hands the events it reads to
// sink until the connection fails or ctx is done. It returns how long the
// connection was up (zero if it never was) and why it ended.
func (s *Source) connect(ctx context.Context, sink stream.Sink) (up time.Duration, err error) {
	conn, resp, err := s.dialer.DialContext(ctx, s.subscribeURL(), s.header)
	if err != nil {
		return 0, dialError(resp, err)
	}
	defer conn.Close()
	conn.SetReadLimit(readLimit)
	connected := time.Now()
	s.status.set(stream.SourceConnected, time.Time{}, "")
	s.logger.Info("jetstream: connected", "resumed", s.lastTimeUS != 0)

	stop := make(chan struct{})
	var writer sync.WaitGroup
	// The keep-alive goroutine is the connection's only writer; this call
	// owns it, stops it and waits for it.
	writer.Go(func() { keepAlive(ctx, conn, stop) })
	err = s.readEvents(conn, sink)
	close(stop)
	writer.Wait()
	return time.Since(connected), fmt.Errorf("connection lost: %w", err)
}

// dialError explains a failed dial. A handshake answered with a 4xx status
// other than 408 (timeout) or 429 (too many requests) is a refusal.
func dialError(resp *http.Response, err error) error {
	if resp != nil {
		code := resp.StatusCode
		if code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
			return &refusedError{status: code}
		}
		return fmt.Errorf("connecting: HTTP %d: %w", code, err)
	}
	return fmt.Errorf("connecting: %w", err)
}

// closedOnPurpose reports whether err is the server closing the connection
// normally or because it is going away (a restart).
func closedOnPurpose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) &&
		(ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway)
}

// readEvents reads messages and handles them until the connection fails.
// Every message, and every pong, extends the read deadline by pongWait.
func (s *Source) readEvents(conn *websocket.Conn, sink stream.Sink) error {
	extend := func() error { return conn.SetReadDeadline(time.Now().Add(pongWait)) }
	if err := extend(); err != nil {
		return err
	}
	conn.SetPongHandler(func(string) error { return extend() })
	var buf bytes.Buffer // reused for every message
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if err := extend(); err != nil {
			return err
		}
		msg, err := readMessage(r, &buf)
		switch {
		case errors.Is(err, errTooLarge):
			s.skip(err)
		case err != nil:
			return err
		default:
			s.handle(msg, sink)
		}
	}
}

// readMessage reads one message into buf and returns its bytes, valid
// until the next call. A message longer than maxEventBytes is read to its
// end, thrown away, and reported as errTooLarge.
func readMessage(r io.Reader, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, maxEventBytes+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxEventBytes {
		buf.Reset()
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// keepAlive pings conn every pingPeriod until stop is closed. When ctx is
// done it says goodbye and closes conn, which ends the reader.
func keepAlive(ctx context.Context, conn *websocket.Conn, stop <-chan struct{}) {
	ticker := time.NewTicker(pingPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(closeWait))
			conn.Close()
			return
		case <-ticker.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				conn.Close() // the reader notices and reports the failure
				return
			}
		}
	}
}
