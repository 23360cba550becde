package views

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// segmentKind says how a piece of a tweet's text is shown.
type segmentKind int

const (
	// segmentPlain is shown as escaped text.
	segmentPlain segmentKind = iota
	// segmentLink is an http(s) URL in the text, shown as a link to Href.
	segmentLink
	// segmentHashtag is a hashtag as stream.HashtagSpans finds it, shown in
	// a span of its own.
	segmentHashtag
	// segmentMatch is a word of a trend the tweet matched, outside any
	// hashtag or URL, shown marked.
	segmentMatch
)

// maxDecorated bounds the links, hashtags and marks of one card; the text
// after the last of them is plain. Each costs some hundred bytes of
// markup, so without a bound a text of "#a #a #a …" would make a card many
// times its size; no real tweet has this many.
const maxDecorated = 64

// textSegment is one piece of a tweet's text. Text is always shown as
// escaped text, whatever the kind.
type textSegment struct {
	Kind segmentKind
	Text string
	// Href is set only for segmentLink, and only after httpURL accepted it.
	Href templ.SafeURL
	// Parts is set only for a segmentHashtag that holds a matched word: Text
	// cut in pieces, in order, the matched ones marked. nil shows Text
	// whole.
	Parts []textPart
}

// textPart is a piece of a hashtag's text.
type textPart struct {
	Text string
	// Match marks a word of a matched trend.
	Match bool
}

// segmentText splits a tweet's plain text into plain runs, links, hashtags
// and the words of the matched trends, in order; joining every segment's
// Text gives s back. A URL that httpURL refuses stays plain text.
//
// Hashtags are stream's (HashtagSpans), so a card shows as a hashtag exactly
// what the rest of the app counts as one; matched words are stream's too
// (MatchSpans), the words matching found. Neither is looked for inside a
// URL, linked or refused: its text is shown as it is.
func segmentText(s string, matched []string) []textSegment {
	if s == "" {
		return nil
	}
	g := segmenter{s: s, tags: stream.HashtagSpans(s)}
	if len(matched) > 0 {
		g.marks = stream.MatchSpans(s, matched)
	}
	// Room for a plain run around each hashtag and mark, and a link or two,
	// so that most texts fill the slice without growing it.
	g.segs = make([]textSegment, 0, 2*(len(g.tags)+len(g.marks))+5)
	prev := ' ' // the rune before i; the start of the text counts as a space
	for i := 0; i < len(s) && g.decorated < maxDecorated; {
		if !isWordRune(prev) {
			if n := linkLength(s[i:]); n > 0 {
				g.textUntil(i)
				kind, href := segmentPlain, templ.SafeURL("")
				if u, ok := httpURL(s[i : i+n]); ok {
					kind, href = segmentLink, u
				}
				g.add(textSegment{Kind: kind, Text: s[i : i+n], Href: href}, i+n)
				i += n
				prev, _ = utf8.DecodeLastRuneInString(s[:i])
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		prev = r
		i += size
	}
	g.textUntil(len(s))
	return g.segs
}

// segmenter builds the segments of a text from its start to its end.
type segmenter struct {
	s string
	// tags and marks are the hashtags and matched words not yet placed, in
	// order; those that overlap a URL are dropped as the URL is placed.
	tags, marks []stream.Span
	done        int // s[:done] is placed
	segs        []textSegment
	decorated   int // segments placed that are not plain
}

// add places seg, which ends at end, after what is placed.
func (g *segmenter) add(seg textSegment, end int) {
	if seg.Kind != segmentPlain {
		g.decorated++
	}
	g.segs = append(g.segs, seg)
	g.done = end
}

// plainUntil places s[done:to] as plain text.
func (g *segmenter) plainUntil(to int) {
	if g.done < to {
		g.add(textSegment{Kind: segmentPlain, Text: g.s[g.done:to]}, to)
	}
}

// textUntil places s[done:to], text outside any URL: its hashtags, its
// matched words and the plain runs between them.
func (g *segmenter) textUntil(to int) {
	for {
		if g.decorated >= maxDecorated {
			g.plainUntil(to)
			return
		}
		tag, isTag := g.nextSpan(&g.tags, to)
		mark, isMark := g.nextSpan(&g.marks, to)
		switch {
		case isTag && (!isMark || tag.Start <= mark.Start):
			g.plainUntil(tag.Start)
			g.hashtag(tag)
		case isMark:
			g.plainUntil(mark.Start)
			g.add(textSegment{Kind: segmentMatch, Text: g.s[mark.Start:mark.End]}, mark.End)
		default:
			g.plainUntil(to)
			return
		}
	}
}

// nextSpan returns the first of spans when it lies within s[done:to],
// first dropping those that start before done: they overlap what is
// placed, a URL.
func (g *segmenter) nextSpan(spans *[]stream.Span, to int) (stream.Span, bool) {
	for len(*spans) > 0 && (*spans)[0].Start < g.done {
		*spans = (*spans)[1:]
	}
	if len(*spans) == 0 || (*spans)[0].End > to {
		return stream.Span{}, false
	}
	return (*spans)[0], true
}

// hashtag places the hashtag at tag, with the matched words inside it.
func (g *segmenter) hashtag(tag stream.Span) {
	seg := textSegment{Kind: segmentHashtag, Text: g.s[tag.Start:tag.End]}
	at := tag.Start
	for len(g.marks) > 0 && g.marks[0].Start < tag.End {
		m := g.marks[0]
		g.marks = g.marks[1:]
		if m.End > tag.End {
			// A hashtag ends where a word does, so this does not happen;
			// were it to, a mark would cross the span's end.
			continue
		}
		if seg.Parts == nil {
			seg.Parts = make([]textPart, 0, 3) // the hash, the word, what follows
		}
		if at < m.Start {
			seg.Parts = append(seg.Parts, textPart{Text: g.s[at:m.Start]})
		}
		seg.Parts = append(seg.Parts, textPart{Text: g.s[m.Start:m.End], Match: true})
		at = m.End
	}
	if seg.Parts != nil && at < tag.End {
		seg.Parts = append(seg.Parts, textPart{Text: g.s[at:tag.End]})
	}
	g.add(seg, tag.End)
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

// isWordRune reports whether r continues a word, so that an http inside a
// word ("xhttp://") starts no link.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
