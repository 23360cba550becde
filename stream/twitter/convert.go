package twitter

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// sourceName is the Source of every tweet, and of every retraction.
const sourceName = "twitter"

// unescapeText undoes the only escaping Twitter applies to a tweet's text
// (&, < and >). It is one pass, so "&amp;lt;", which the author typed as
// "&lt;", stays "&lt;".
var unescapeText = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// toTweet converts a status from the stream. A retweet is shown as its
// original, with RetweetedBy set to the retweeter; its ID stays the
// retweet's own, so that IDs are unique and a deletion of the retweet
// finds it. A truncated tweet gets its full text and entities from
// extended_tweet. now stands in for an unreadable created_at. It reports
// false for a status without an ID or an author.
func toTweet(st *twitter.Tweet, now time.Time) (stream.Tweet, bool) {
	id := statusID(st.IDStr, st.ID)
	orig, retweeter := st, (*stream.Author)(nil)
	if st.RetweetedStatus != nil {
		if !hasAuthor(st) {
			return stream.Tweet{}, false
		}
		by := author(st.User)
		orig, retweeter = st.RetweetedStatus, &by
	}
	origID := statusID(orig.IDStr, orig.ID)
	if id == "" || origID == "" || !hasAuthor(orig) {
		return stream.Tweet{}, false
	}
	text, entities, media := content(orig)
	return stream.Tweet{
		ID:           id,
		Source:       sourceName,
		Author:       author(orig.User),
		Text:         text,
		URL:          "https://twitter.com/" + url.PathEscape(orig.User.ScreenName) + "/status/" + url.PathEscape(origID),
		Lang:         language(orig.Lang),
		RetweetedBy:  retweeter,
		ThumbnailURL: thumbnail(media, entities),
		Links:        links(entities),
		Tags:         tags(entities),
		CreatedAt:    createdAt(orig.CreatedAt, now),
	}, true
}

// statusID prefers id_str, which keeps all the digits in any JSON reader.
func statusID(idStr string, id int64) string {
	switch {
	case idStr != "":
		return idStr
	case id > 0:
		return strconv.FormatInt(id, 10)
	}
	return ""
}

func hasAuthor(st *twitter.Tweet) bool { return st.User != nil && st.User.ScreenName != "" }

func author(u *twitter.User) stream.Author {
	a := stream.Author{Handle: u.ScreenName, Name: u.Name}
	if isWebURL(u.ProfileImageURLHttps) {
		a.AvatarURL = u.ProfileImageURLHttps
	}
	return a
}

// content returns a status's text, plain, and the entities that go with
// it: those of extended_tweet when the text is truncated.
func content(st *twitter.Tweet) (text string, entities *twitter.Entities, media *twitter.ExtendedEntity) {
	text, entities, media = st.Text, st.Entities, st.ExtendedEntities
	if st.FullText != "" { // a status fetched in extended mode
		text = st.FullText
	}
	if x := st.ExtendedTweet; st.Truncated && x != nil && x.FullText != "" {
		text = x.FullText
		if x.Entities != nil {
			entities = x.Entities
		}
		if x.ExtendedEntities != nil {
			media = x.ExtendedEntities
		}
	}
	return unescapeText.Replace(text), entities, media
}

// language drops "und", Twitter's word for a language it could not tell.
func language(lang string) string {
	if lang == "und" {
		return ""
	}
	return lang
}

// thumbnail is the thumbnail size of the first photo: from
// extended_entities, which types every medium truly, or else from
// entities.
func thumbnail(media *twitter.ExtendedEntity, entities *twitter.Entities) string {
	var list []twitter.MediaEntity
	if media != nil {
		list = media.Media
	}
	if len(list) == 0 && entities != nil {
		list = entities.Media
	}
	for _, m := range list {
		if m.Type == "photo" && isWebURL(m.MediaURLHttps) && !strings.ContainsAny(m.MediaURLHttps, "?#") {
			return m.MediaURLHttps + ":thumb"
		}
	}
	return ""
}

// links are the expanded URLs of the links in the text.
func links(entities *twitter.Entities) []string {
	if entities == nil {
		return nil
	}
	var list []string
	for _, u := range entities.Urls {
		if isWebURL(u.ExpandedURL) {
			list = append(list, u.ExpandedURL)
		}
	}
	return list
}

// tags are the hashtags Twitter found in the text: nil when it does not
// say, empty when it says there are none.
func tags(entities *twitter.Entities) []string {
	if entities == nil {
		return nil
	}
	list := make([]string, 0, len(entities.Hashtags))
	for _, h := range entities.Hashtags {
		if h.Text != "" {
			list = append(list, h.Text)
		}
	}
	return list
}

// createdAt reads Twitter's time format ("Wed Oct 10 20:19:24 +0000
// 2018"), in UTC, or returns now. A time that UTC puts outside the years
// RFC 3339 can write (0000 to 9999), as "Sat Jan 01 00:00:00 +0100 0000"
// is, counts as unreadable: the protocol's created_at could not carry it.
func createdAt(s string, now time.Time) time.Time {
	t, err := time.Parse(time.RubyDate, s)
	if t = t.UTC(); err != nil || t.Year() < 0 || t.Year() > 9999 {
		return now
	}
	return t
}

// isWebURL reports whether s is an absolute http(s) URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
