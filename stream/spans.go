package stream

import "bytes"

// Span is where a piece of a text is: text[Start:End], in bytes.
type Span struct{ Start, End int }

// MatchSpans returns where the words of text are that belong to any of
// trends, in order: the words a reader sees highlighted as the reason a
// tweet is in a room. It splits text and trends into folded words exactly
// as Matcher does, so it finds what matching found: "Café" and "CAFÉ" for
// the trend "café", the "golang" of "#golang" for "golang" or "#golang",
// each word of a trend of several words, and never part of a word
// ("golangers" for "golang").
//
// trends are meant to be the trends text matched; a word is found whether
// or not the rest of its trend is in the text. It returns nil when no word
// is found.
func MatchSpans(text string, trends []string) []Span {
	// The trends' words, each followed by a NUL, which no word holds. A
	// tweet matched a few short trends, so a list searched word by word
	// beats building a set, and on the stack it costs no allocation.
	var wordsBuf [128]byte
	words := wordsBuf[:0]
	tok := tokenizer{buf: make([]byte, 0, 64)} // one buffer for most words, trends' and text's
	for _, t := range trends {
		tok.reset(t)
		for w, ok := tok.next(); ok; w, ok = tok.next() {
			words = append(append(words, w...), 0)
		}
	}
	if len(words) == 0 {
		return nil
	}
	var spans []Span
	tok.reset(text)
	for w, ok := tok.next(); ok; w, ok = tok.next() {
		if hasWord(words, w) {
			spans = append(spans, tok.span())
		}
	}
	return spans
}

// hasWord reports whether w is one of words, a list of words each followed
// by a NUL.
func hasWord(words, w []byte) bool {
	for len(words) > 0 {
		i := bytes.IndexByte(words, 0)
		if bytes.Equal(words[:i], w) {
			return true
		}
		words = words[i+1:]
	}
	return false
}
