package stream

import (
	"errors"
	"fmt"
	"slices"
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

// TrendError refuses a trend, saying why in words meant for the person who
// asked for it: its Error is safe to show to a client, whatever wraps it.
// It wraps Kind, ErrBadTrend or ErrTooManyTrends.
type TrendError struct {
	Kind   error
	Reason string
}

func (e *TrendError) Error() string { return e.Kind.Error() + ": " + e.Reason }

// Unwrap returns Kind, so that errors.Is(err, ErrBadTrend) holds.
func (e *TrendError) Unwrap() error { return e.Kind }

// refuseTrend returns a TrendError of kind, its reason from format.
func refuseTrend(kind error, format string, args ...any) error {
	return &TrendError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// NormalizeTrend returns the canonical form of a trend name, the name of its
// room: surrounding space trimmed, inner runs of space collapsed to one, and
// case folded. It refuses an empty or over-long name, control and format
// characters (a zero-width space would make two rooms look alike), invalid
// UTF-8, and a name with no word in it, such as "!!!" or "#". Every error
// is a *TrendError of kind ErrBadTrend.
func NormalizeTrend(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", refuseTrend(ErrBadTrend, "not valid UTF-8")
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
			return "", refuseTrend(ErrBadTrend, "control character %U is not allowed", r)
		}
		if pendingSpace {
			b.WriteByte(' ')
			n++
			pendingSpace = false
		}
		b.WriteRune(foldRune(r))
		n++
		if n > MaxTrendLen { // stop early: the name may be huge
			return "", refuseTrend(ErrBadTrend, "longer than %d characters", MaxTrendLen)
		}
	}
	if n == 0 {
		return "", refuseTrend(ErrBadTrend, "a trend needs a name")
	}
	trend := b.String()
	if len(trendWords(trend)) == 0 {
		return "", refuseTrend(ErrBadTrend, "%q has no word to match", trend)
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

// asciiWord maps each ASCII byte to its folded form when it belongs to a
// word, and to 0 when it separates words, so that the tokenizer handles the
// bulk of most texts with one table load per byte.
var asciiWord = func() (t [utf8.RuneSelf]byte) {
	for c := range byte(utf8.RuneSelf) {
		if isWordRune(rune(c)) {
			t[c] = byte(foldRune(rune(c)))
		}
	}
	return t
}()

// wordRunes caches wordRune for the runes below its length: Latin, Greek,
// Cyrillic, the scripts of the Middle East and India, and the punctuation
// and symbols of tweets (’ “ … ™ ★ ❤). Looking them up in the unicode
// tables costs three binary searches each. An entry is 0 for a separator,
// and otherwise the folded rune, with markBit set for a combining mark.
var wordRunes = func() (t [0x3000]int32) {
	for r := range rune(len(t)) {
		if isWordRune(r) {
			t[r] = foldRune(r)
			if unicode.IsMark(t[r]) {
				t[r] |= markBit
			}
		}
	}
	return t
}()

const markBit = 1 << 30 // above every rune

// wordRune reports whether r belongs to a word and, if so, its folded form
// and whether that is a combining mark. It asks of the folded form, as a
// word is made of folded runes: U+0345, the Greek iota subscript, is a mark
// that folds to the letter iota, and so can start a word, in a text as in
// the trend it was folded into.
func wordRune(r rune) (folded rune, mark, ok bool) {
	switch {
	case r < rune(len(wordRunes)):
		e := wordRunes[r]
		return e &^ markBit, e&markBit != 0, e != 0
	case 0x1F000 <= r && r <= 0x1FAFF:
		// Emoji, playing cards and the like: symbols all.
		return 0, false, false
	case isWordRune(r):
		f := foldRune(r)
		return f, unicode.IsMark(f), true
	}
	return 0, false, false
}

// isWordRune reports whether r belongs to a word: letters, digits, "_" and
// combining marks. Everything else, "#" and "@" included, separates words:
// a hashtag matches its bare word. A mark only stays in a word when it
// follows a word rune (see tokenizer.next).
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) && !isVariationSelector(r)
}

// isVariationSelector reports whether r only picks how the rune before it
// is drawn, as U+FE0F turns the heart symbol U+2764 into an emoji. Though
// Unicode files them as marks, they never make a word: an emoji heart is
// no word, and "go" followed by U+FE0F is the word "go".
func isVariationSelector(r rune) bool {
	return 0xFE00 <= r && r <= 0xFE0F || 0xE0100 <= r && r <= 0xE01EF
}

// trendWords returns the distinct folded words of a trend, in order.
func trendWords(trend string) []string {
	var words []string
	tok := tokenizer{text: trend}
	for w, ok := tok.next(); ok; w, ok = tok.next() {
		if !slices.Contains(words, string(w)) {
			words = append(words, string(w))
		}
	}
	return words
}

// tokenizer splits a text into folded words. Trends and texts go through the
// same tokenizer, which is what makes them compare equal.
type tokenizer struct {
	text string
	pos  int    // where the next word is looked for
	buf  []byte // the current word, folded; reused from word to word
	// start is where the current word begins in text: folding changes
	// lengths, so the word alone cannot tell where it was.
	start int
}

// reset starts tokenizing text, keeping the buffer of earlier texts.
func (t *tokenizer) reset(text string) {
	t.text, t.pos = text, 0
}

// next returns the next word, folded, and true; or false at the end of the
// text. The word is only valid until the next call. Invalid UTF-8 separates
// words, as U+FFFD would.
func (t *tokenizer) next() ([]byte, bool) {
	text, i, w := t.text, t.pos, t.buf[:0]
	// start moves past each separator before the word, rather than being
	// set at the word's first rune, so that runes inside a word cost
	// nothing more.
	start := i
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			if f := asciiWord[c]; f != 0 {
				w = append(w, f)
			} else if len(w) > 0 {
				break
			} else {
				start = i
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		// A mark with no word rune before it, as after "#" or an emoji,
		// separates words instead of starting one.
		if f, mark, ok := wordRune(r); ok && (len(w) > 0 || !mark) {
			w = utf8.AppendRune(w, f)
		} else if len(w) > 0 {
			break
		} else {
			start = i
		}
	}
	t.pos, t.start = i, start
	if cap(w) != cap(t.buf) {
		t.buf = w // grown: keep it for the next words
	}
	return w, len(w) > 0
}

// span returns where the word the last call to next returned is in the
// text. next consumes the separator that ends a word, so the word ends
// before the rune at pos-1 unless that rune is the word's own last one,
// which only happens at the end of the text.
func (t *tokenizer) span() Span {
	end := t.pos
	r, size := utf8.DecodeLastRuneInString(t.text[:end])
	if _, _, ok := wordRune(r); !ok {
		end -= size
	}
	return Span{Start: t.start, End: end}
}
