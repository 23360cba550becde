package natsbroker

import (
	"strings"
	"testing"
	"unicode"
)

func TestRoomSubjectsAreOneSafeTokenWhateverTheName(t *testing.T) {
	names := []string{"golang", "#webdev", "world cup", "a.b", "*", ">", "a b.c*d>e", "café", "日本", "😀", "x\ty"}
	seen := make(map[string]string)
	for _, name := range names {
		subject := RoomSubject(name)
		token, ok := strings.CutPrefix(subject, roomPrefix)
		if !ok || token == "" {
			t.Fatalf("%q: subject %q does not start with %q and a token", name, subject, roomPrefix)
		}
		for _, r := range token {
			if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')) {
				t.Errorf("%q: token %q holds %q, which a subject token must not", name, token, r)
			}
		}
		if other, dup := seen[subject]; dup {
			t.Errorf("%q and %q share the subject %q", name, other, subject)
		}
		seen[subject] = name
	}
}

func TestRoomMessagesRoundTrip(t *testing.T) {
	frame := []byte(`{"type":"tweet","room":"golang","seq":7,"html":"a\nb"}`)
	m, err := parseRoomMessage(appendPub(nil, "e1", 7, frame))
	if err != nil || m.retract || m.epoch != "e1" || m.seq != 7 || string(m.body) != string(frame) {
		t.Fatalf("a tweet came back as %+v, %v", m, err)
	}
	m, err = parseRoomMessage(appendRetract(nil, "e1", 3, "at://did/post/1"))
	if err != nil || !m.retract || m.epoch != "e1" || m.seq != 3 || string(m.body) != "at://did/post/1" {
		t.Fatalf("a retract came back as %+v, %v", m, err)
	}
}

func TestMalformedRoomMessagesAreRefused(t *testing.T) {
	for _, data := range []string{"", "p", "p e1 1", "x e1 1\n{}", "p  1\n{}", "p e1\n{}", "p e1 0\n{}", "p e1 -1\n{}", "p e1 1x\n{}", "pe1 1\n{}"} {
		if m, err := parseRoomMessage([]byte(data)); err == nil {
			t.Errorf("%q parsed as %+v; want an error", data, m)
		}
	}
}
