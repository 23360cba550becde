package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// tweetLine returns a tweet message in this server's full layout, its card
// markup escaped as encoding/json escapes it, about 1.3 KB long.
func tweetLine(room string, seq uint64, ingestedAt time.Time) string {
	return tweetLineAs(formFull, room, seq, ingestedAt)
}

// tweetLineAs returns a tweet message in one of the forms -tweet asks for,
// its keys in the order the protocol gives them.
func tweetLineAs(form tweetForm, room string, seq uint64, ingestedAt time.Time) string {
	id := fmt.Sprintf("m-1-%d", seq)
	at := ingestedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
	text := "Breaking: a report on " + room + " just dropped, and everyone is talking about it https://example.com/news/73830"
	tweet := fmt.Sprintf(`{"id":%q,"source":"mock","author":{"handle":"emma_w","name":"Emma Wright"},"text":%q,`+
		`"url":"https://example.com/mock/%s","lang":"en","created_at":"2026-11-26T01:33:30.768660226Z","ingested_at":%q}`,
		id, text, id, at)
	card := `<li class="card" data-testid="card" data-id="` + id + `" data-source="mock"><article>` +
		`<header class="card-head"><span class="avatar initials" data-testid="card-avatar" aria-hidden="true">EW</span> ` +
		`<span class="byline"><span class="name" data-testid="card-name">Emma Wright</span> ` +
		`<span class="handle" data-testid="card-handle">@emma_w</span></span></header>` +
		`<p class="text" data-testid="card-text" lang="en">Breaking: a report on ` + room + ` just dropped ` +
		`<a class="link" href="https://example.com/news/73830" rel="noopener noreferrer nofollow" target="_blank">https://example.com/news/73830</a></p>` +
		`<footer class="card-foot"><time data-testid="card-time" datetime="2026-11-26T01:33:30Z">Nov 26, 01:33 UTC</time></footer></article></li>`
	html, _ := json.Marshal(card)
	head := fmt.Sprintf(`{"type":"tweet","room":%q,"seq":%d`, room, seq)
	switch form {
	case formSeq:
		return head + fmt.Sprintf(`,"ingested_at":%q}`, at)
	case formCard:
		return head + `,"html":` + string(html) + `}`
	case formData:
		return head + fmt.Sprintf(`,"matched":[%q],"tweet":%s}`, room, tweet)
	}
	return head + fmt.Sprintf(`,"matched":[%q],"tweet":%s,"html":%s}`, room, tweet, html)
}

var ingested = time.Date(2026, 11, 26, 1, 33, 30, 768669199, time.UTC)

func TestTweetLineIsRealistic(t *testing.T) {
	line := tweetLine("golang", 41, ingested)
	if n := len(line); n < 1200 || n > 1500 {
		t.Errorf("a sample tweet message is %d bytes, want about 1.3 KB", n)
	}
	if !strings.Contains(line, `\u003c`) {
		t.Error("the sample's html is not escaped as the server escapes it")
	}
	if !json.Valid([]byte(line)) {
		t.Error("the sample is not valid JSON")
	}
}

func TestParseMessage(t *testing.T) {
	ns := ingested.UnixNano()
	tests := []struct {
		name string
		line string
		want message // trends compared apart
	}{
		{
			name: "a tweet in the server's full layout takes the fast path",
			line: tweetLine("golang", 41, ingested),
			want: message{kind: kindTweet, room: []byte("golang"), seq: 41, form: formFull, ingestedAt: ns},
		},
		{
			name: "the seq form takes the fast path, ingested_at at the top level",
			line: tweetLineAs(formSeq, "golang", 41, ingested),
			want: message{kind: kindTweet, room: []byte("golang"), seq: 41, form: formSeq, ingestedAt: ns},
		},
		{
			name: "the data form takes the fast path",
			line: tweetLineAs(formData, "golang", 41, ingested),
			want: message{kind: kindTweet, room: []byte("golang"), seq: 41, form: formData, ingestedAt: ns},
		},
		{
			name: "the card form takes the fast path, and has no time",
			line: tweetLineAs(formCard, "golang", 41, ingested),
			want: message{kind: kindTweet, room: []byte("golang"), seq: 41, form: formCard},
		},
		{
			name: "a card whose markup spells ingested_at has no time",
			line: `{"type":"tweet","room":"go","seq":7,"html":"\u003cp\u003e\",\"ingested_at\":\"2026-11-26T01:33:30.768669199Z\"\u003c/p\u003e"}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 7, form: formCard},
		},
		{
			name: "the seq form with a field after ingested_at falls back",
			line: `{"type":"tweet","room":"go","seq":8,"ingested_at":"2026-11-26T01:33:30.768669199Z","x":1}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 8, form: formSeq, ingestedAt: ns, fallback: true},
		},
		{
			name: "a tweet with only room and seq falls back, and has no time",
			line: `{"type":"tweet","room":"go","seq":9}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 9, form: formOther, fallback: true},
		},
		{
			name: "a tweet with its keys in another order falls back to encoding/json",
			line: `{"room":"golang","seq":41,"type":"tweet","html":"<b>","tweet":{"ingested_at":"2026-11-26T01:33:30.768669199Z","id":"x"}}`,
			want: message{kind: kindTweet, room: []byte("golang"), seq: 41, form: formFull, ingestedAt: ns, fallback: true},
		},
		{
			name: "a room with an escape falls back",
			line: `{"type":"tweet","room":"caf\u00e9","seq":2,"matched":[],"tweet":{"ingested_at":"2026-11-26T01:33:30.768669199Z"},"html":""}`,
			want: message{kind: kindTweet, room: []byte("café"), seq: 2, form: formFull, ingestedAt: ns, fallback: true},
		},
		{
			name: "text that spells a key cannot fake ingested_at",
			line: `{"type":"tweet","room":"go","seq":3,"matched":["go"],"tweet":{"text":"\"ingested_at\":\"1999-01-01T00:00:00.000000000Z\"","ingested_at":"2026-11-26T01:33:30.768669199Z"},"html":""}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 3, form: formFull, ingestedAt: ns},
		},
		{
			name: "a timestamp with an offset is parsed by time.Parse",
			line: `{"type":"tweet","room":"go","seq":4,"matched":["go"],"tweet":{"ingested_at":"2026-11-26T02:33:30.768669199+01:00"},"html":""}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 4, form: formFull, ingestedAt: ns, fallback: true},
		},
		{
			name: "a tweet without ingested_at has no time",
			line: `{"type":"tweet","room":"go","seq":5,"matched":["go"],"tweet":{"id":"x"},"html":""}`,
			want: message{kind: kindTweet, room: []byte("go"), seq: 5, form: formFull, fallback: true},
		},
		{
			name: "a skipped message in the server's layout takes the fast path",
			line: `{"type":"skipped","room":"golang","from_seq":10,"to_seq":14,"count":5}`,
			want: message{kind: kindSkipped, room: []byte("golang"), fromSeq: 10, toSeq: 14, count: 5},
		},
		{
			name: "a skipped message with another key order falls back",
			line: `{"type":"skipped","count":5,"room":"golang","from_seq":10,"to_seq":14}`,
			want: message{kind: kindSkipped, room: []byte("golang"), fromSeq: 10, toSeq: 14, count: 5, fallback: true},
		},
		{
			name: "joined carries the room's latest seq",
			line: `{"type":"joined","room":"golang","epoch":"k3x9","seq":41,"members":3}`,
			want: message{kind: kindJoined, room: []byte("golang"), seq: 41},
		},
		{
			name: "error carries its code and room",
			line: `{"type":"error","code":"too_many_trends","message":"no room for more trends","room":"load-0001"}`,
			want: message{kind: kindError, room: []byte("load-0001"), code: "too_many_trends"},
		},
		{
			name: "stats are not counted, nor read",
			line: `{"type":"stats","room":"golang","members":3,"per_minute":60}`,
			want: message{kind: kindOther},
		},
		{
			name: "the trend list is named, not read",
			line: `{"type":"trends","trends":[{"room":"golang","members":3,"per_minute":60,"custom":false}],"html":"<ul>"}`,
			want: message{kind: kindTrends},
		},
		{
			name: "a type not counted is not checked either",
			line: `{"type":"trending","tags":[nonsense]}`,
			want: message{kind: kindOther},
		},
		{
			name: "a type added later is not counted",
			line: `{"type":"reaction","emoji":"x"}`,
			want: message{kind: kindOther},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got message
			if err := parseMessage([]byte(tt.line), &got); err != nil {
				t.Fatalf("parseMessage: %v", err)
			}
			if !equalMessages(got, tt.want) {
				t.Errorf("parseMessage =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseMessageFastPathReadsWhatEncodingJSONReads(t *testing.T) {
	for form := formFull; form < formCount; form++ {
		for _, room := range []string{"golang", "#webdev", "two words"} {
			line := []byte(tweetLineAs(form, room, 12345, ingested))
			t.Run(tweetForms[form]+" "+room, func(t *testing.T) {
				var fast, slow message
				if err := parseMessage(line, &fast); err != nil {
					t.Fatalf("parseMessage: %v", err)
				}
				if fast.fallback {
					t.Errorf("the %s form took the slow path", tweetForms[form])
				}
				if err := parseSlow(line, &slow); err != nil {
					t.Fatalf("parseSlow: %v", err)
				}
				slow.fallback = false
				if !equalMessages(fast, slow) {
					t.Errorf("fast path read\n%+v\nencoding/json\n%+v", fast, slow)
				}
				if fast.form != form {
					t.Errorf("form %s, want %s", tweetForms[fast.form], tweetForms[form])
				}
			})
		}
	}
}

func equalMessages(a, b message) bool {
	return a.kind == b.kind && string(a.room) == string(b.room) && a.seq == b.seq && a.form == b.form &&
		a.fromSeq == b.fromSeq && a.toSeq == b.toSeq && a.count == b.count &&
		a.ingestedAt == b.ingestedAt && a.fallback == b.fallback && a.code == b.code
}

func TestParseTrendList(t *testing.T) {
	line := []byte(`{"type":"trends","trends":[{"room":"golang","members":0,"per_minute":0,"custom":false},{"room":"#webdev","members":2,"per_minute":5,"custom":true}],"html":"<ul>"}`)
	var m message
	if err := parseMessage(line, &m); err != nil || m.kind != kindTrends {
		t.Fatalf("parseMessage(trends) = kind %v, %v; want kindTrends", m.kind, err)
	}
	got, err := parseTrendList(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := []announcedTrend{{Room: "golang"}, {Room: "#webdev", Custom: true}}; !slices.Equal(got, want) {
		t.Errorf("parseTrendList = %+v, want %+v", got, want)
	}
	if _, err := parseTrendList([]byte(`{"type":"stats","trends":[]}`)); err != errMalformed {
		t.Errorf("parseTrendList(stats) = %v, want errMalformed", err)
	}
}

func TestParseMessageRejectsWhatIsNotAMessage(t *testing.T) {
	full := tweetLine("golang", 41, ingested)
	for name, line := range map[string]string{
		"not JSON":                   `hello`,
		"a JSON array":               `[1,2]`,
		"no type":                    `{"room":"golang"}`,
		"an empty type":              `{"type":""}`,
		"a tweet without seq":        `{"type":"tweet","room":"golang","tweet":{}}`,
		"a tweet without room":       `{"type":"tweet","seq":1}`,
		"a skipped without count":    `{"type":"skipped","room":"golang","from_seq":1,"to_seq":2}`,
		"a truncated tweet":          full[:len(full)/2],
		"a tweet cut in its seq":     `{"type":"tweet","room":"golang","seq":4`,
		"a seq that is not a number": `{"type":"tweet","room":"golang","seq":"4","tweet":{}}`,
		"a seq form cut in its time": `{"type":"tweet","room":"golang","seq":4,"ingested_at":"2026-11`,
		"a card cut in its markup":   `{"type":"tweet","room":"golang","seq":4,"html":"<p>}`,
		"a stats message cut short":  `{"type":"stats","room":"golang"`,
	} {
		t.Run(name, func(t *testing.T) {
			var m message
			if err := parseMessage([]byte(line), &m); err != errMalformed {
				t.Errorf("parseMessage(%.60q) = %v, want errMalformed", line, err)
			}
		})
	}
}

func TestParseFixedUTCAgreesWithTimeParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 12, 31, 12, 0, 0, 1, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for range 2000 {
		samples = append(samples, time.Unix(rng.Int64N(5e9)-1e9, rng.Int64N(1e9)).UTC())
	}
	for _, want := range samples {
		s := want.Format("2006-01-02T15:04:05.000000000Z")
		got, ok := parseFixedUTC([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Fatalf("parseFixedUTC(%s) = %d, %v; want %d", s, got, ok, want.UnixNano())
		}
	}
}

func TestParseIngestedAtRefusesImpossibleDates(t *testing.T) {
	for _, s := range []string{
		"2026-02-29T00:00:00.000000000Z", // not a leap year
		"2026-13-01T00:00:00.000000000Z",
		"2026-01-01T24:00:00.000000000Z",
		"2026-01-01T00:00:00.00000000xZ",
		"yesterday",
	} {
		if ns, _ := parseIngestedAt([]byte(s)); ns != 0 {
			t.Errorf("parseIngestedAt(%s) = %d, want 0", s, ns)
		}
	}
}
