package views

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// CardHTML renders the card of t, with the words of the matched trends
// marked, and returns the HTML, for the html field of a live tweet
// message. The server calls it once per tweet and shares the result with
// every room the tweet goes to, so the card carries no seq: each room's
// seq differs, and the script adds it. It is a rooms.RenderFunc.
func CardHTML(t stream.Tweet, matched []string) (string, error) {
	html, err := HTML(Card(CardItem{Tweet: t, Matched: matched}))
	if err != nil {
		return "", fmt.Errorf("render card %s/%s: %w", t.Source, t.ID, err)
	}
	return html, nil
}

// cardView is what a card shows of a tweet, every part of it already checked:
// the card component only lays it out.
type cardView struct {
	ID     string
	Source string
	// Seq is the card's seq in its room; zero leaves out data-seq.
	Seq uint64
	// Name is the display name: the author's name, else the handle.
	Name string
	// Handle is shown as "@Handle"; "" hides it.
	Handle string
	// Avatar is set only when the avatar URL passed httpURL; otherwise the
	// card shows Initials in its place.
	Avatar   templ.SafeURL
	Initials string
	// Lang is a well-formed language tag, or "" for none.
	Lang     string
	Segments []textSegment
	// Time is when the tweet was written; the zero time shows no time.
	Time time.Time
	// Link is set only when the tweet's URL passed httpURL.
	Link templ.SafeURL
	// RetweetedBy names who retweeted the tweet, as "@handle" or else by
	// name; "" for a tweet that is no retweet.
	RetweetedBy string
	// Thumbnail is set only when the thumbnail URL passed httpURL.
	Thumbnail templ.SafeURL
}

func newCardView(c CardItem) cardView {
	t := c.Tweet
	name := displayName(t.Author)
	v := cardView{
		ID:       t.ID,
		Source:   t.Source,
		Seq:      c.Seq,
		Name:     name,
		Handle:   strings.TrimSpace(t.Author.Handle),
		Initials: initials(name),
		Lang:     langTag(t.Lang),
		Segments: segmentText(t.Text, c.Matched),
		Time:     tweetTime(t),
	}
	if a := t.RetweetedBy; a != nil {
		v.RetweetedBy = retweeter(*a)
	}
	if u, ok := httpURL(t.Author.AvatarURL); ok {
		v.Avatar = u
	}
	if u, ok := httpURL(t.URL); ok {
		v.Link = u
	}
	if u, ok := httpURL(t.ThumbnailURL); ok {
		v.Thumbnail = u
	}
	return v
}

// retweeter names who retweeted a tweet: "@handle", else the name, else ""
// when the source gave neither.
func retweeter(a stream.Author) string {
	if handle := strings.TrimSpace(a.Handle); handle != "" {
		return "@" + handle
	}
	return strings.TrimSpace(a.Name)
}

// unknownAuthor is shown when a tweet has neither a name nor a handle.
const unknownAuthor = "unknown"

// displayName is the author's name, or the handle when the name is blank.
func displayName(a stream.Author) string {
	if name := strings.TrimSpace(a.Name); name != "" {
		return name
	}
	if handle := strings.TrimSpace(a.Handle); handle != "" {
		return handle
	}
	return unknownAuthor
}

// initials returns the first letter or digit of the first and last words of
// name, upper-cased: "Ada Lovelace" gives "AL", "gopher" gives "G". It
// returns "?" when name has no letter or digit to show.
func initials(name string) string {
	var letters []rune
	for _, word := range strings.Fields(name) {
		if i := strings.IndexFunc(word, isInitial); i >= 0 {
			r, _ := utf8.DecodeRuneInString(word[i:])
			letters = append(letters, unicode.ToUpper(r))
		}
	}
	switch len(letters) {
	case 0:
		return "?"
	case 1:
		return string(letters)
	default:
		return string([]rune{letters[0], letters[len(letters)-1]})
	}
}

func isInitial(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// langTag returns tag when it has the shape of a BCP 47 language tag
// (alphanumeric subtags of 1 to 8 characters joined by "-", the first one
// letters only), and "" otherwise, so a card never claims a language the
// browser cannot use.
func langTag(tag string) string {
	if tag == "" || len(tag) > 35 {
		return ""
	}
	for i, sub := range strings.Split(tag, "-") {
		if len(sub) == 0 || len(sub) > 8 {
			return ""
		}
		for _, c := range []byte(sub) {
			isLetter := c|0x20 >= 'a' && c|0x20 <= 'z'
			isDigit := c >= '0' && c <= '9'
			if !isLetter && (i == 0 || !isDigit) {
				return ""
			}
		}
	}
	return tag
}

// tweetTime is when the tweet was written, or when it was received when the
// source does not say.
func tweetTime(t stream.Tweet) time.Time {
	if !t.CreatedAt.IsZero() {
		return t.CreatedAt
	}
	return t.IngestedAt
}

// datetime formats t for a <time datetime> attribute, which the script reads
// to show how long ago the tweet was written.
func datetime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shortTime formats t for the card, before the script replaces it with a
// relative time in the reader's clock. It is absolute, so a card rendered
// once and sent to many stays true, and in UTC, since the server does not
// know the reader's zone.
func shortTime(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") }
