// Package twitter is a stream.Source for Twitter's v1.1 filter stream
// (POST statuses/filter.json), and a stream.Trender for its trends/place
// endpoint. It is the only package that imports
// github.com/dghubble/go-twitter, and it converts go-twitter's types to
// stream.Tweet at its edge.
//
// go-twitter's Stream leaves much to its caller. This package closes each
// gap, mostly in the http.RoundTripper it puts under go-twitter's OAuth
// client, which sees every connection attempt and every status:
//
//   - On a network error go-twitter sends one error and stops for good; on
//     an HTTP status other than 200, 420, 429 and 503 it stops without a
//     word. Here every failure is retried, and Status says why.
//   - At the end of a stream it reconnects at once, in a tight loop if the
//     server keeps closing; its own backoff waits a random time that may be
//     half of what Twitter asks, and gives up silently after 15 minutes.
//     Here each go-twitter Stream may make one request only (the
//     transport fails a second), so go-twitter never retries or sleeps:
//     the source reconnects by Twitter's rules, for as long as its
//     context lasts.
//   - It has no stall detection, and reads a message of any length into
//     memory. Here the transport wraps each response body: a stream that
//     sends no byte for StallTimeout is reconnected, and a message longer
//     than 1 MiB is dropped as it arrives.
//   - Its requests carry no context, so an attempt cannot be cancelled,
//     and Stop hangs while a connection attempt does (or while nobody
//     reads Messages). Here the transport ties every request to a context
//     the source cancels, and the source calls Stop only once go-twitter's
//     goroutine has ended.
//   - It sends the track list in the URL's query, where 400 phrases make a
//     URL longer than servers take. Here the transport moves it into the
//     body, after signing: the OAuth signature covers both alike.
//   - It hard-codes Twitter's hosts. Here the transport sends the requests
//     to StreamURL and APIURL, so that a compatible endpoint, or the fake
//     one of package twittertest, can stand in for Twitter.
package twitter
