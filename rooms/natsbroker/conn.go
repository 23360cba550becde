package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Liveness of the link to NATS.
const (
	// reconnectWait is the pause between two reconnection attempts: short,
	// as a node that cannot reach NATS cannot serve.
	reconnectWait = 250 * time.Millisecond
	// pingInterval times two (maxPingsOut) is how long a link that died
	// without a word (a cable, a firewall) goes unnoticed; a closed socket
	// is noticed at once.
	pingInterval = time.Second
	maxPingsOut  = 2
	// requestTimeout bounds every request to the ingest node.
	requestTimeout = 3 * time.Second
)

// Conn is a node's connection to NATS. It reconnects by itself, forever,
// and logs each loss and return; Ready says whether it is connected now.
type Conn struct {
	nc  *nats.Conn
	log *slog.Logger

	mu          sync.Mutex
	onReconnect []func()
	closed      bool
	// fills holds the goroutines started on a reconnect, awaited by Close.
	fills sync.WaitGroup
}

// Connect connects to the NATS server at url as name. When the server is
// not up yet, it returns at once and keeps trying in the background.
func Connect(url, name string, logger *slog.Logger) (*Conn, error) {
	if logger == nil {
		logger = slog.Default()
	}
	c := &Conn{log: logger}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(maxPingsOut),
		nats.RetryOnFailedConnect(true),
		nats.ConnectHandler(func(nc *nats.Conn) {
			logger.Info("connected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("lost NATS; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
			c.reconnected()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			logger.Warn("NATS reported an error", "subject", subject, "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connecting to %s: %w", url, err)
	}
	c.nc = nc
	return c, nil
}

// Ready reports nil while connected, else why not.
func (c *Conn) Ready() error {
	if c.nc.IsConnected() {
		return nil
	}
	return errors.New("not connected to NATS (reconnecting)")
}

// whenReconnected registers fn to run, in a goroutine of its own, after
// each reconnection.
func (c *Conn) whenReconnected(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onReconnect = append(c.onReconnect, fn)
}

func (c *Conn) reconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, fn := range c.onReconnect {
		c.fills.Go(fn)
	}
}

// Close closes the connection and waits for what its reconnections
// started.
func (c *Conn) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.nc.Close()
	c.fills.Wait()
}

// request sends a JSON request to subject and decodes the JSON reply,
// waiting requestTimeout at most, less when ctx ends first.
func (c *Conn) request(ctx context.Context, subject string, req, reply any) error {
	data, err := jsonMarshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	msg, err := c.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return fmt.Errorf("natsbroker: asking %s: %w", subject, err)
	}
	return decode(msg.Data, reply)
}
