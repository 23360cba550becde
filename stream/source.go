package stream

import "context"

// A Source produces tweets. Implement it to plug in a stream of your own: a
// mock, a file, a live API. The ingester calls Stream, and calls it again with
// backoff when it fails.
type Source interface {
	// Stream hands every item to sink until ctx is done or the stream ends.
	// It returns nil at the natural end of a finite stream (which is never
	// restarted), ctx.Err() once ctx is done, and any other error when the
	// stream failed: the ingester logs it and restarts the source.
	Stream(ctx context.Context, sink Sink) error
}

// Sink receives what a Source produces. A source calls it from one goroutine
// at a time; its methods return quickly and never wait for a slow client.
type Sink interface {
	// Tweet routes t to the room of every trend it matches. The sink sets
	// IngestedAt; a Source may leave it zero.
	Tweet(t Tweet)
	// Retract withdraws the tweet with this ID (its author deleted it):
	// it leaves history and open columns.
	Retract(source, id string)
}

// SourceFunc adapts a function to the Source interface.
type SourceFunc func(ctx context.Context, sink Sink) error

// Stream calls f(ctx, sink).
func (f SourceFunc) Stream(ctx context.Context, sink Sink) error { return f(ctx, sink) }
