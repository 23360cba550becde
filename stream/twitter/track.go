package twitter

import (
	"fmt"
	"slices"
	"strings"
)

// Twitter's limits on the track parameter of the filter stream
// (https://developer.twitter.com/en/docs/twitter-api/v1/tweets/filter-realtime/guides/basic-stream-parameters).
const (
	// maxTrackPhrases is how many phrases one stream may track; Twitter
	// refuses a longer list.
	maxTrackPhrases = 400
	// maxPhraseBytes is the longest phrase, in bytes of UTF-8.
	maxPhraseBytes = 60
)

// trackPhrases turns trends into track phrases. A comma separates phrases
// in the track parameter, so a comma inside a trend becomes a space: the
// phrase then asks for all its words, as the trend's matcher does. Empty
// and repeated phrases are dropped; the order is kept.
func trackPhrases(trends []string) []string {
	phrases := make([]string, 0, len(trends))
	for _, trend := range trends {
		p := strings.Join(strings.Fields(strings.ReplaceAll(trend, ",", " ")), " ")
		if p != "" && !slices.Contains(phrases, p) {
			phrases = append(phrases, p)
		}
	}
	return phrases
}

// checkPhraseCount refuses a list Twitter would refuse for its length.
func checkPhraseCount(phrases []string) error {
	if len(phrases) > maxTrackPhrases {
		return fmt.Errorf("twitter: %d trends to track, but Twitter's filter stream tracks at most %d: "+
			"configure fewer trends, and cap the trend set (configured and custom) at %d",
			len(phrases), maxTrackPhrases, maxTrackPhrases)
	}
	return nil
}

// checkTrack refuses phrases that break either of Twitter's limits.
func checkTrack(phrases []string) error {
	if err := checkPhraseCount(phrases); err != nil {
		return err
	}
	for _, p := range phrases {
		if len(p) > maxPhraseBytes {
			return fmt.Errorf("twitter: trend %q is %d bytes long, but Twitter tracks phrases of at most %d bytes: "+
				"use a shorter name", p, len(p), maxPhraseBytes)
		}
	}
	return nil
}

// splitLong separates the phrases Twitter accepts from those longer than
// maxPhraseBytes.
func splitLong(phrases []string) (fit, long []string) {
	fit = make([]string, 0, len(phrases))
	for _, p := range phrases {
		if len(p) > maxPhraseBytes {
			long = append(long, p)
		} else {
			fit = append(fit, p)
		}
	}
	return fit, long
}
