package stream

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// MockConfig configures NewMock.
type MockConfig struct {
	// Trends is the live set the mock writes about; it is required. Each
	// tweet targets the next trend, round-robin over Trends.Matcher().Trends()
	// as it is at that moment, so trends added or removed while the mock
	// runs are picked up at once.
	Trends *Trends
	// Rate is how many tweets per second the mock emits over all trends
	// together. Zero, a negative number or NaN means 10; a rate above
	// MaxMockRate is capped to it.
	Rate float64
	// Seed makes the output reproducible: two mocks with the same seed that
	// see the same sequence of trends emit the same tweets (IDs, authors,
	// text), apart from CreatedAt. Zero is a seed like any other.
	Seed int64
}

// MaxMockRate caps MockConfig.Rate: far above what one server can route, so
// it never limits a load test, and low enough that the tweets due in one
// tick fit comfortably in an int.
const MaxMockRate = 10_000_000

const (
	// defaultMockRate is lively enough to watch, slow enough to read.
	defaultMockRate = 10
	// mockMinTick is the shortest tick: at high rates the mock emits every
	// tweet due since the last tick in one batch, rather than waking up once
	// per tweet. At low rates it ticks once per tweet, so the flow is smooth.
	mockMinTick = 10 * time.Millisecond
	// mockMaxTick bounds the tick at tiny rates, so that a trend added after
	// a long quiet spell is not kept waiting for more than this.
	mockMaxTick = time.Minute
	// mockMaxBurstTicks is how many ticks' worth of tweets one tick may
	// emit when the sink was slow. The mock drops the rest of the backlog
	// rather than catching up in a burst.
	mockMaxBurstTicks = 10
	// mockComposeTries is how many texts the mock composes for a tweet
	// before it falls back to one that holds only the target trend.
	mockComposeTries = 8
)

// Mock is a Source of synthetic tweets about the current trends, for demos
// and load tests. Each tweet matches exactly one trend, the next in turn,
// so a test knows what every room receives: see Stream for the one case
// where that cannot hold.
type Mock struct {
	trends *Trends
	rate   float64
	seed   int64

	// mu guards the sequence, which every Stream call of this Mock shares
	// and continues, so IDs never repeat.
	mu   sync.Mutex
	rng  *rand.Rand
	made uint64 // tweets made so far; numbers the next ID
	turn uint64 // round-robin position over the current trends
}

var _ Source = (*Mock)(nil)

// NewMock returns a mock source. It panics if cfg.Trends is nil.
func NewMock(cfg MockConfig) *Mock {
	if cfg.Trends == nil {
		panic("stream: NewMock needs MockConfig.Trends")
	}
	rate := cfg.Rate
	switch {
	case !(rate > 0): // also catches NaN
		rate = defaultMockRate
	case rate > MaxMockRate:
		rate = MaxMockRate
	}
	return &Mock{
		trends: cfg.Trends,
		rate:   rate,
		seed:   cfg.Seed,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6f636b)), // "mock"
	}
}

// Stream emits tweets at the configured rate until ctx is done, then
// returns ctx.Err(). While the set of trends is empty it emits nothing and
// waits for a change.
//
// Each tweet holds every word of its target trend and, as the current
// Matcher sees it, matches no other trend. That is impossible when all the
// words of another trend are among the target's own words ("#go" and "go",
// or "go" and "go fast" for a tweet about "go fast"): such a tweet also
// matches the other trend.
func (mk *Mock) Stream(ctx context.Context, sink Sink) error {
	tick := mockTick(mk.rate)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	maxBurst := uint64(mk.rate*tick.Seconds()*mockMaxBurstTicks) + 1

	// The mock owes rate × (time since start) tweets and has emitted sent.
	start, sent := time.Now(), uint64(0)
	for {
		// Take the channel before reading the set, so that a change in
		// between still wakes the wait below.
		changed := mk.trends.Changed()
		if len(mk.trends.Matcher().Trends()) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-changed:
			}
			// Nothing is owed for the quiet spell.
			start, sent = time.Now(), 0
			ticker.Reset(tick)
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		due := uint64(float64(time.Since(start)) * mk.rate / float64(time.Second))
		if due > sent+maxBurst {
			sent = due - maxBurst
		}
		for ; sent < due; sent++ {
			t, ok := mk.next(time.Now())
			if !ok {
				break // the set emptied: the top of the loop waits
			}
			sink.Tweet(t)
		}
	}
}

// mockTick is the ticker period for rate: once per tweet when that is at
// least mockMinTick apart, bounded by mockMaxTick.
func mockTick(rate float64) time.Duration {
	perTweet := float64(time.Second) / rate
	return time.Duration(math.Min(math.Max(perTweet, float64(mockMinTick)), float64(mockMaxTick)))
}

// next makes the tweet for the next trend in turn, or reports false when
// there is no trend.
func (mk *Mock) next(now time.Time) (Tweet, bool) {
	m := mk.trends.Matcher()
	trends := m.Trends()
	if len(trends) == 0 {
		return Tweet{}, false
	}
	mk.mu.Lock()
	defer mk.mu.Unlock()
	target := trends[mk.turn%uint64(len(trends))]
	mk.turn++
	id := "m-" + strconv.FormatInt(mk.seed, 10) + "-" + strconv.FormatUint(mk.made, 10)
	mk.made++
	author := mockAuthors[mk.rng.IntN(len(mockAuthors))]
	text, lang := mk.compose(m, target)
	return Tweet{
		ID:        id,
		Source:    "mock",
		Author:    author,
		Text:      text,
		URL:       "https://example.com/mock/" + id,
		Lang:      lang,
		CreatedAt: now,
	}, true
}

// compose writes a text about target that m matches to target alone, or,
// when filler keeps matching other trends, the bare trend: its own words
// and nothing else.
// mk.mu must be held.
func (mk *Mock) compose(m *Matcher, target string) (text, lang string) {
	mention := target
	if isBareWord(target) && mk.rng.IntN(2) == 0 {
		mention = "#" + target
	}
	var b strings.Builder
	for range mockComposeTries {
		tpl := mockTemplates[mk.rng.IntN(len(mockTemplates))]
		b.Reset()
		mk.fill(&b, tpl.text, mention)
		if matched := m.Match(b.String()); len(matched) == 1 && matched[0] == target {
			return b.String(), tpl.lang
		}
	}
	return target, ""
}

// isBareWord reports whether s is one word that can follow "#" as a hashtag.
func isBareWord(s string) bool {
	for _, r := range s {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return false
		}
	}
	return s != ""
}

// fill expands the placeholders of tpl into b: {t} the trend, {e} an
// emoji, {l} a link, {h} a general hashtag, {a} an adjective, {n} a noun,
// {o} a short opinion.
func (mk *Mock) fill(b *strings.Builder, tpl, mention string) {
	pick := func(list []string) string { return list[mk.rng.IntN(len(list))] }
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 || i+2 >= len(tpl) || tpl[i+2] != '}' {
			b.WriteString(tpl)
			return
		}
		b.WriteString(tpl[:i])
		switch tpl[i+1] {
		case 't':
			b.WriteString(mention)
		case 'e':
			b.WriteString(pick(mockEmoji))
		case 'l':
			fmt.Fprintf(b, "https://example.com/%s/%d", pick(mockLinkSections), 1000+mk.rng.IntN(90000))
		case 'h':
			b.WriteString(pick(mockHashtags))
		case 'a':
			b.WriteString(pick(mockAdjectives))
		case 'n':
			b.WriteString(pick(mockNouns))
		case 'o':
			b.WriteString(pick(mockOpinions))
		}
		tpl = tpl[i+3:]
	}
}

// mockTemplate is a tweet text with placeholders (see Mock.fill). The
// trend always stands between spaces or punctuation, so that it stays a
// word of its own even in scripts written without spaces.
type mockTemplate struct {
	lang string
	text string
}

var mockTemplates = []mockTemplate{
	{"en", "Hot take: {t} is {a} and nobody is ready for it {e}"},
	{"en", "Anyone else following {t} today? {e}"},
	{"en", "Breaking: a {n} on {t} just dropped {l}"},
	{"en", "Just read a long thread about {t}. {o}"},
	{"en", "New post: what I learned about {t} this week {l}"},
	{"en", "{t} {e}{e}"},
	{"en", "Can someone explain the {t} hype to me like I'm five?"},
	{"en", "Today's {t} news is wild {e} {h}"},
	{"en", "Working on a {n} about {t} tonight. {o}"},
	{"en", "Unpopular opinion: {t} is {a} {h}"},
	{"en", "Live now: {t} updates all afternoon {l}"},
	{"en", "My feed is 90% {t} right now and I'm not complaining {e}"},
	{"en", "Is it just me or is {t} everywhere this week? {e}"},
	{"en", "Three things I wish I'd known about {t} earlier, a {n} {l} {h}"},
	{"es", "¿Alguien más siguiendo {t} hoy? {e}"},
	{"es", "Opinión: {t} está cambiando todo {e}"},
	{"es", "Nuevo artículo sobre {t} {l}"},
	{"fr", "Quelqu'un suit {t} aujourd'hui ? {e}"},
	{"fr", "Nouvel article sur {t} : {l}"},
	{"fr", "Franchement, {t} me surprend chaque semaine {e}"},
	{"de", "Neuer Artikel über {t}: {l}"},
	{"de", "Ehrlich gesagt ist {t} gerade das spannendste Thema {e}"},
	{"de", "Wer verfolgt heute auch {t}? {e}"},
	{"ja", "{t} について考えている {e}"},
	{"ja", "今日の {t} のニュース、すごい {e}"},
	{"ja", "{t} の新しい記事 {l}"},
	{"pt", "Alguém acompanhando {t} hoje? {e}"},
	{"pt", "Opinião: {t} está mudando tudo {e}"},
	{"pt", "Novo artigo sobre {t} {l}"},
}

var (
	// mockEmoji avoids sequences with a variation selector, which the
	// tokenizer counts as a word character.
	mockEmoji        = []string{"🚀", "🔥", "😂", "🤔", "👀", "🎉", "✨", "💡", "🙌", "😅", "📈", "🌍", "💯", "🤯"}
	mockHashtags     = []string{"#news", "#thread", "#tech", "#today", "#weekend", "#mustread"}
	mockLinkSections = []string{"news", "blog", "posts", "articles", "watch"}
	mockAdjectives   = []string{"underrated", "overhyped", "brilliant", "a mess", "fascinating", "the future"}
	mockNouns        = []string{"report", "study", "thread", "podcast", "video", "explainer", "blog post"}
	mockOpinions     = []string{"Thoughts?", "Not sure I agree.", "Worth your time.", "Mind blown.", "Still thinking about it."}
)

// mockAuthors are invented; the page draws their initials, so some names
// are in scripts other than Latin.
var mockAuthors = []Author{
	{Handle: "zoe_codes", Name: "Zoë Martin"},
	{Handle: "jose_luis_dev", Name: "José Luis Romero"},
	{Handle: "lukasz_k", Name: "Łukasz Kowalski"},
	{Handle: "yamada_taro", Name: "山田太郎"},
	{Handle: "ayse_yilmaz", Name: "Ayşe Yılmaz"},
	{Handle: "priya_builds", Name: "Priya Raman"},
	{Handle: "mkovacs", Name: "Márton Kovács"},
	{Handle: "chloe_dubois", Name: "Chloé Dubois"},
	{Handle: "fatima_z", Name: "Fatima Zahra"},
	{Handle: "oliver_j", Name: "Oliver James"},
	{Handle: "ngozi_o", Name: "Ngozi Okafor"},
	{Handle: "sven_e", Name: "Sven Eriksson"},
	{Handle: "lena_schmidt", Name: "Lena Schmidt"},
	{Handle: "bjorn_l", Name: "Björn Lindqvist"},
	{Handle: "ana_paula", Name: "Ana Paula Souza"},
	{Handle: "joao_pedro", Name: "João Pedro Alves"},
	{Handle: "sakura_ito", Name: "伊藤さくら"},
	{Handle: "kenji_dev", Name: "Kenji Watanabe"},
	{Handle: "amelie_r", Name: "Amélie Rousseau"},
	{Handle: "mateo_g", Name: "Mateo García"},
	{Handle: "sofia_rossi", Name: "Sofia Rossi"},
	{Handle: "dmitri_v", Name: "Dmitri Volkov"},
	{Handle: "hana_kim", Name: "김하나"},
	{Handle: "wei_zhang", Name: "张伟"},
	{Handle: "aisha_b", Name: "Aisha Bello"},
	{Handle: "tom_builds", Name: "Tom Baker"},
	{Handle: "grace_h", Name: "Grace Holloway"},
	{Handle: "rafael_m", Name: "Rafael Méndez"},
	{Handle: "ines_f", Name: "Inês Ferreira"},
	{Handle: "noah_park", Name: "Noah Park"},
	{Handle: "emma_w", Name: "Emma Wright"},
	{Handle: "felix_b", Name: "Félix Bernard"},
	{Handle: "maja_n", Name: "Maja Nowak"},
	{Handle: "tariq_h", Name: "Tariq Hassan"},
	{Handle: "olga_p", Name: "Ольга Петрова"},
	{Handle: "liam_oc", Name: "Liam O'Connor"},
	{Handle: "elif_d", Name: "Elif Demir"},
	{Handle: "kofi_a", Name: "Kofi Asante"},
	{Handle: "nina_s", Name: "Nina Søndergaard"},
	{Handle: "pablo_r", Name: "Pablo Ruiz"},
}
