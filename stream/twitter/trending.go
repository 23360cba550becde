package twitter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

const (
	// maxTrendsBody bounds the trends/place response; its fifty trends
	// take a few KiB.
	maxTrendsBody = 1 << 20
	// maxTrending caps the list, at the fifty Twitter returns.
	maxTrending = 50
)

// Trending returns what Twitter lists as trending at the configured WOEID
// (trends/place), most trending first: each name without its leading "#",
// with Twitter's count of its tweets over the last day, or 0 where
// Twitter does not say. Trends that are phrases rather than hashtags
// ("World Cup") are listed too. It gives up when ctx is done, which
// go-twitter's Trends.Place does not take, and fails for any status but
// 200, which go-twitter lets pass when the body holds no JSON error.
func (s *Source) Trending(ctx context.Context) ([]stream.TagCount, error) {
	client := twitter.NewClient(s.auth.client(&callTransport{ctx: ctx, next: s.rewrite, maxBody: maxTrendsBody}))
	lists, resp, err := client.Trends.Place(s.woeid, nil)
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("twitter: trends/place: %w", ctx.Err())
	case resp != nil && resp.StatusCode != http.StatusOK:
		failure := fmt.Errorf("twitter: trends/place: %w", &statusError{code: resp.StatusCode})
		var apiErr twitter.APIError
		if errors.As(err, &apiErr) {
			failure = fmt.Errorf("%w (Twitter says %q)", failure, strings.TrimPrefix(apiErr.Error(), "twitter: "))
		}
		return nil, failure
	case err != nil:
		return nil, fmt.Errorf("twitter: trends/place: %w", err)
	}
	var tags []stream.TagCount
	for _, list := range lists {
		for _, t := range list.Trends {
			if len(tags) == maxTrending {
				return tags, nil
			}
			name := strings.TrimPrefix(t.Name, "#")
			if name == "" {
				continue
			}
			tags = append(tags, stream.TagCount{Tag: name, Count: int(min(max(t.TweetVolume, 0), math.MaxInt32))})
		}
	}
	return tags, nil
}
