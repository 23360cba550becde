package stream

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTrendLen is the longest trend name, in characters, after
// normalisation. It keeps room names readable and within what live APIs
// accept as one tracked phrase.
const MaxTrendLen = 60

// ErrBadTrend is wrapped by every error that rejects a trend name; the rest
// of the error says why in words a user can read.
var ErrBadTrend = errors.New("bad trend")

// NormalizeTrend returns the canonical form of a trend name, the name of its
// room: surrounding space trimmed, inner runs of space collapsed to one, and
// case folded. It refuses an empty or over-long name, control characters,
// invalid UTF-8, and a name with no word in it.
func NormalizeTrend(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrBadTrend)
	}
	var b strings.Builder
	b.Grow(len(name))
	pendingSpace := false
	n := 0
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			pendingSpace = b.Len() > 0
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return "", fmt.Errorf("%w: control characters are not allowed", ErrBadTrend)
		}
		if pendingSpace {
			b.WriteByte(' ')
			n++
			pendingSpace = false
		}
		b.WriteRune(foldRune(r))
		n++
	}
	switch {
	case n == 0:
		return "", fmt.Errorf("%w: a trend needs a name", ErrBadTrend)
	case n > MaxTrendLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrBadTrend, MaxTrendLen)
	}
	trend := b.String()
	if len(trendWords(trend)) == 0 {
		return "", fmt.Errorf("%w: %q has no word to match", ErrBadTrend, trend)
	}
	return trend, nil
}

// foldRune maps r to the one form that all its case variants share, so that
// "CAFÉ", "Café" and "café" compare equal, and so do "Σ", "σ" and "ς".
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// isWordRune reports whether r belongs to a word. Everything else, "#" and
// "@" included, separates words: a hashtag matches its bare word.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// trendWords returns the distinct folded words of a trend, in order.
func trendWords(trend string) []string {
	var words []string
	tokenize(trend, nil, func(w []byte) {
		for _, seen := range words {
			if seen == string(w) {
				return
			}
		}
		words = append(words, string(w))
	})
	return words
}

// tokenize folds text into buf and calls word with each word in turn. The
// slice passed to word is only valid during the call. It returns buf, grown
// as needed, for reuse.
func tokenize(text string, buf []byte, word func([]byte)) []byte {
	buf = buf[:0]
	start := -1
	for _, r := range text {
		if !isWordRune(r) {
			if start >= 0 {
				word(buf[start:])
				buf = buf[:0]
				start = -1
			}
			continue
		}
		if start < 0 {
			start = len(buf)
		}
		buf = utf8.AppendRune(buf, foldRune(r))
	}
	if start >= 0 {
		word(buf[start:])
	}
	return buf
}
