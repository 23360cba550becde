package twittertest

import (
	"encoding/json"
	"strconv"
	"strings"
)

// CreatedAt is the created_at of the tweets Tweet makes, in Twitter's
// format.
const CreatedAt = "Fri Mar 14 15:09:26 +0000 2025"

// Tweet returns a v1.1 status as the filter stream sends it, trimmed to
// the fields a reader needs: an id (digits), the author's screen name, and
// the text, with retweet_count, which marks a message as a tweet.
func Tweet(id, screenName, text string) string {
	return mustJSON(map[string]any{
		"created_at":    CreatedAt,
		"id":            json.Number(id),
		"id_str":        id,
		"text":          text,
		"truncated":     false,
		"lang":          "en",
		"retweet_count": 0,
		"user": map[string]any{
			"id_str":                  "1" + id,
			"screen_name":             screenName,
			"name":                    displayName(screenName),
			"profile_image_url_https": "https://pbs.twimg.com/profile_images/" + id + "/avatar_normal.jpg",
		},
		"entities": map[string]any{"hashtags": []any{}, "urls": []any{}, "user_mentions": []any{}},
	})
}

// Delete returns a status deletion notice for the tweet id. Like
// Twitter's, it has no retweet_count.
func Delete(id string) string {
	return `{"delete":{"status":{"id":` + id + `,"id_str":"` + id + `","user_id":3,"user_id_str":"3"}}}`
}

// Limit returns a limit notice: track is the number of matching tweets
// held back since the connection opened.
func Limit(track int64) string {
	return `{"limit":{"track":` + strconv.FormatInt(track, 10) + `}}`
}

// StallWarning returns a warning that the client reads too slowly.
func StallWarning(percentFull int) string {
	p := strconv.Itoa(percentFull)
	return `{"warning":{"code":"FALLING_BEHIND","message":"Your connection is falling behind and messages are being queued for delivery to you. ` +
		`Your queue is now over ` + p + `% full. You will be disconnected when the queue is full.","percent_full":` + p + `}}`
}

// Disconnect returns a disconnect message.
func Disconnect(code int, reason string) string {
	return mustJSON(map[string]any{"disconnect": map[string]any{"code": code, "stream_name": "tweetstreamer-test", "reason": reason}})
}

// Enormous returns a syntactically valid message of at least n bytes.
func Enormous(n int) string {
	return `{"padding":"` + strings.Repeat("x", n) + `"}`
}

// displayName makes a display name from a screen name: "ayse" → "Ayse".
func displayName(screenName string) string {
	if screenName == "" {
		return ""
	}
	return strings.ToUpper(screenName[:1]) + screenName[1:]
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// DefaultTrends is what trends/place answers unless SetTrends says
// otherwise: three trends, one a phrase and one without a tweet volume.
const DefaultTrends = `[{"trends":[` +
	`{"name":"#GoLang","url":"http://twitter.com/search?q=%23GoLang","promoted_content":null,"query":"%23GoLang","tweet_volume":12345},` +
	`{"name":"World Cup","url":"http://twitter.com/search?q=%22World+Cup%22","promoted_content":null,"query":"%22World+Cup%22","tweet_volume":67890},` +
	`{"name":"#rustlang","url":"http://twitter.com/search?q=%23rustlang","promoted_content":null,"query":"%23rustlang","tweet_volume":null}` +
	`],"as_of":"2025-03-14T15:10:00Z","created_at":"2025-03-14T15:05:12Z","locations":[{"name":"Worldwide","woeid":1}]}]`
