package views

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// segmentKind says how a piece of a tweet's text is shown.
type segmentKind int

const (
	// segmentPlain is shown as escaped text.
	segmentPlain segmentKind = iota
	// segmentLink is an http(s) URL in the text, shown as a link to Href.
	segmentLink
	// segmentHashtag is a #hashtag, shown in a span of its own.
	segmentHashtag
)

// textSegment is one piece of a tweet's text. Text is always shown as
// escaped text, whatever the kind.
type textSegment struct {
	Kind segmentKind
	Text string
	// Href is set only for segmentLink, and only after httpURL accepted it.
	Href templ.SafeURL
}

// segmentText splits a tweet's plain text into plain runs, links and
// hashtags, in order; joining every segment's Text gives s back. A URL that
// httpURL refuses stays plain text.
func segmentText(s string) []textSegment {
	var segs []textSegment
	plainFrom := 0
	add := func(from, to int, kind segmentKind, href templ.SafeURL) {
		if plainFrom < from {
			segs = append(segs, textSegment{Kind: segmentPlain, Text: s[plainFrom:from]})
		}
		segs = append(segs, textSegment{Kind: kind, Text: s[from:to], Href: href})
		plainFrom = to
	}
	prev := ' ' // the rune before i; the start of the text counts as a space
	for i := 0; i < len(s); {
		if !isWordRune(prev) {
			if n := linkLength(s[i:]); n > 0 {
				if href, ok := httpURL(s[i : i+n]); ok {
					add(i, i+n, segmentLink, href)
				}
				// A refused URL stays plain, and so does any # inside it.
				i += n
				prev, _ = utf8.DecodeLastRuneInString(s[:i])
				continue
			}
			if n := hashtagLength(s[i:]); n > 0 {
				add(i, i+n, segmentHashtag, "")
				i += n
				prev, _ = utf8.DecodeLastRuneInString(s[:i])
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		prev = r
		i += size
	}
	if plainFrom < len(s) {
		segs = append(segs, textSegment{Kind: segmentPlain, Text: s[plainFrom:]})
	}
	return segs
}

// linkLength returns the length of the URL that starts s, or 0 when s does
// not start with http:// or https://. The URL runs to the first space or
// character that cannot end a URL in running text, less any trailing
// punctuation and unbalanced closing brackets, which belong to the sentence.
func linkLength(s string) int {
	var rest string
	switch {
	case hasPrefixFold(s, "https://"):
		rest = s[len("https://"):]
	case hasPrefixFold(s, "http://"):
		rest = s[len("http://"):]
	default:
		return 0
	}
	n := len(s) - len(rest)
	end := n + strings.IndexFunc(rest, endsLink)
	if end < n {
		end = len(s)
	}
	for end > n {
		last := s[end-1]
		if strings.IndexByte(".,:;!?'", last) >= 0 ||
			(last == ')' && strings.Count(s[:end], "(") < strings.Count(s[:end], ")")) ||
			(last == ']' && strings.Count(s[:end], "[") < strings.Count(s[:end], "]")) {
			end--
			continue
		}
		break
	}
	if end == n {
		return 0 // a bare scheme links nowhere
	}
	return end
}

// endsLink reports whether r cannot be part of a URL written in text.
func endsLink(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"<>`, r) || r == utf8.RuneError
}

// hashtagLength returns the length of the hashtag that starts s, or 0 when s
// does not start with one: a # followed by letters, digits, marks and
// underscores, at least one of them a letter ("#1" is not a hashtag).
func hashtagLength(s string) int {
	if !strings.HasPrefix(s, "#") {
		return 0
	}
	end, hasLetter := 1, false
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(r) && !unicode.IsMark(r) {
			break
		}
		if unicode.IsLetter(r) {
			hasLetter = true
		}
		end += size
	}
	if !hasLetter {
		return 0
	}
	return end
}

// isWordRune reports whether r continues a word, so that a # or http inside a
// word ("C#", "xhttp://") starts nothing.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
