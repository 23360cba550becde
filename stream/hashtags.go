package stream

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HashtagSpans returns where the hashtags of a plain-text post are, in
// order, each span holding the hashtag with its "#" or "＃"; a tag written
// twice has two spans. It is the one definition of a hashtag: Hashtags
// lists what it finds, and a card shows exactly these spans as hashtags.
//
// It follows the rules Twitter and Bluesky apply to a post's text:
//
//   - A hashtag is "#" (or the full-width "＃") followed by letters,
//     digits, combining marks and "_", at least one of them a letter:
//     "#1" and "#2024" are numbers, not hashtags. Zero-width joiners,
//     which some scripts need inside a word, are kept between such runes.
//   - The "#" must start a word: not after a letter, digit, mark or "_"
//     ("C#", "F#"), nor after "&" (an HTML entity such as "&#39;") or "/"
//     (a link's fragment, as in "example.com/#top").
//   - A hashtag followed by another "#" or by "://" is none ("#a#b",
//     "#http://x"), and nothing inside a link counts: from a scheme's
//     "://", or a "www." that starts a word, to the next space.
//
// It returns nil when the text has none.
func HashtagSpans(text string) []Span {
	var spans []Span
	for s := range hashtagSpans(text) {
		spans = append(spans, s)
	}
	return spans
}

// Hashtags returns the hashtags of a plain-text post (see HashtagSpans),
// without the "#", in the order they first appear, each spelled as it
// first appears: a later "#GoLang" after "#golang" is the same tag, as
// trends compare equal when case-folded. It is what a source uses to fill
// Tweet.Tags when its upstream does not list them. It returns nil when the
// text has none.
func Hashtags(text string) []string {
	var tags hashtagSet
	for s := range hashtagSpans(text) {
		_, hash := utf8.DecodeRuneInString(text[s.Start:])
		tags.add(text[s.Start+hash : s.End])
	}
	return tags.list
}

// hashtagSpans yields the spans HashtagSpans returns, so that Hashtags
// finds them without collecting them first.
func hashtagSpans(text string) iter.Seq[Span] {
	return func(yield func(Span) bool) {
		prev := ' ' // the rune before i; the start of the text counts as a space
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			switch {
			case r == ':' && strings.HasPrefix(text[i:], "://") && isSchemeEnd(prev),
				!continuesHashtag(prev) && hasPrefixFold(text[i:], "www."):
				i += linkEnd(text[i:])
			case (r == '#' || r == '＃') && startsHashtag(prev):
				body := i + size
				end := body + hashtagBodyLength(text[body:])
				if end > body && !endsBadly(text[end:]) && !yield(Span{Start: i, End: end}) {
					return
				}
				i = max(end, body)
			default:
				// Nothing starts at i: skip to the next byte that may
				// start a hashtag or a link, which most of a text is not.
				next := i + size
				for next < len(text) && !mayStart[text[next]] {
					next++
				}
				if next == i+size {
					prev = r
				} else {
					prev, _ = utf8.DecodeLastRuneInString(text[:next])
				}
				i = next
				continue
			}
			prev, _ = utf8.DecodeLastRuneInString(text[:i])
		}
	}
}

// mayStart marks the bytes at which hashtagSpans has something to check:
// "#", the first byte of "＃" (and of every rune from U+F000 to U+FFFF),
// ":" of a scheme's "://", and "w" of "www.".
var mayStart = func() (t [256]bool) {
	for _, c := range []byte{'#', 0xEF, ':', 'w', 'W'} {
		t[c] = true
	}
	return t
}()

// hashtagSet collects hashtags, keeping the first spelling of each.
type hashtagSet struct {
	list []string
	// folded holds the folded form of every tag in list; index is built
	// from it once the list is too long to search.
	folded []string
	index  map[string]bool
}

// maxLinearTags is how many tags hashtagSet compares one by one before it
// builds a map: a post has a few, but a text can be anything.
const maxLinearTags = 16

func (s *hashtagSet) add(tag string) {
	key := foldString(tag)
	switch {
	case s.index != nil:
		if s.index[key] {
			return
		}
		s.index[key] = true
	default:
		for _, k := range s.folded {
			if k == key {
				return
			}
		}
		s.folded = append(s.folded, key)
		if len(s.folded) > maxLinearTags {
			s.index = make(map[string]bool, 2*len(s.folded))
			for _, k := range s.folded {
				s.index[k] = true
			}
			s.folded = nil
		}
	}
	s.list = append(s.list, tag)
}

// foldString folds every rune of s as trends are folded (see foldRune).
func foldString(s string) string {
	return strings.Map(foldRune, s)
}

// continuesHashtag reports whether r can be part of a hashtag's body, which
// also means a "#" right after it does not start one.
func continuesHashtag(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	case isJoiner(r):
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) && !isVariationSelector(r)
}

// isJoiner reports whether r is the zero-width non-joiner or joiner, which
// Persian, Indic and other scripts write inside words.
func isJoiner(r rune) bool { return r == '\u200C' || r == '\u200D' }

// startsHashtag reports whether a "#" right after prev starts a hashtag.
func startsHashtag(prev rune) bool {
	return !continuesHashtag(prev) && prev != '&' && prev != '/'
}

// hashtagBodyLength returns the length in bytes of the hashtag body that
// starts s, or 0 when there is none: it must start with a letter, digit or
// "_", hold at least one letter, and not end with a joiner.
func hashtagBodyLength(s string) int {
	end, hasLetter := 0, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !continuesHashtag(r) || i == 0 && (isJoiner(r) || unicode.IsMark(r)) {
			break
		}
		i += size
		if !isJoiner(r) {
			end = i // a joiner only counts once a body rune follows it
		}
		hasLetter = hasLetter || unicode.IsLetter(r)
	}
	if !hasLetter {
		return 0
	}
	return end
}

// endsBadly reports whether what follows a hashtag's body makes it none.
func endsBadly(rest string) bool {
	return strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "＃") || strings.HasPrefix(rest, "://")
}

// isSchemeEnd reports whether r can end a URL scheme, so that "://" after
// it starts a link.
func isSchemeEnd(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// linkEnd returns the length of the link that starts, or is under way, at
// the start of s: up to the next space, or the whole of s.
func linkEnd(s string) int {
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return i
	}
	return len(s)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
