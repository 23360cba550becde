package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// recorder is the Publisher of `tweetstreamer record`: it writes each
// matched tweet as one line of the replay format, ingested_at included, so
// that a replay keeps the live stream's timing. A tweet retracted during the
// recording (its author deleted it) is left out of the finished file.
type recorder struct {
	mu        sync.Mutex
	path      string
	f         *os.File
	w         *bufio.Writer
	anon      *anonymiser       // nil keeps the tweets as they came
	ids       map[string]string // source ID → ID as written (a fake when anonymised)
	retracted map[string]bool   // IDs as written
	written   int
	err       error // the first write error; later tweets are not written
	buf       []byte
}

// newRecorder creates the file at path, refusing to overwrite one.
func newRecorder(path string, anonymise bool) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	r := &recorder{path: path, f: f, w: bufio.NewWriter(f), ids: make(map[string]string), retracted: make(map[string]bool)}
	if anonymise {
		if r.anon, err = newAnonymiser(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return r, nil
}

// Publish writes one matched tweet.
func (r *recorder) Publish(t stream.Tweet, _ []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.ids[t.ID]; r.err != nil || dup {
		return
	}
	id := t.ID
	if r.anon != nil {
		r.anon.tweet(&t)
	}
	r.ids[id] = t.ID
	r.buf = append(t.AppendJSON(r.buf[:0]), '\n')
	if _, err := r.w.Write(r.buf); err != nil {
		r.err = err
		return
	}
	r.written++
}

// Retract notes a deleted tweet, to leave it out of the finished file.
func (r *recorder) Retract(_, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if written, ok := r.ids[id]; ok {
		r.retracted[written] = true
	}
}

// finish flushes and closes the file, rewriting it without the retracted
// tweets if there were any. It returns the tweets kept and removed.
func (r *recorder) finish() (kept, removed int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	err = r.err
	if ferr := r.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r.written, 0, fmt.Errorf("writing %s: %w", r.path, err)
	}
	if len(r.retracted) == 0 {
		return r.written, 0, nil
	}
	kept, err = r.dropRetracted()
	return kept, r.written - kept, err
}

// dropRetracted rewrites the file without the retracted tweets, through a
// temporary file renamed over it, so the recording is never half written.
func (r *recorder) dropRetracted() (int, error) {
	in, err := os.Open(r.path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(r.path), filepath.Base(r.path)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	kept, err := copyKept(tmp, in, r.retracted)
	if err == nil {
		err = tmp.Chmod(0o644) // as the recording was created
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), r.path)
	}
	if err != nil {
		return 0, fmt.Errorf("removing deleted tweets from %s: %w", r.path, err)
	}
	return kept, nil
}

func copyKept(dst io.Writer, src io.Reader, drop map[string]bool) (int, error) {
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	w := bufio.NewWriter(dst)
	kept := 0
	for sc.Scan() {
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &head) == nil && drop[head.ID] {
			continue
		}
		w.Write(sc.Bytes())
		w.WriteByte('\n')
		kept++
	}
	if err := sc.Err(); err != nil {
		return kept, err
	}
	return kept, w.Flush()
}

// anonymiser replaces who wrote a tweet, its ID (a Bluesky ID names the
// account) and where it links with stable fakes, for a recording to be
// shared: the same handle always becomes the same fake within one
// recording, and a random key per recording means the fakes cannot be
// traced back by hashing known handles.
type anonymiser struct {
	key []byte
}

func newAnonymiser() (*anonymiser, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &anonymiser{key: key}, nil
}

// fake returns a short stable token for s.
func (a *anonymiser) fake(kind, s string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// personalInText finds, in this order of preference at each place, an
// e-mail address, a link (with a scheme, or as apps shorten them:
// "github.com/alice/project", "www.example.org") and a mention.
var personalInText = regexp.MustCompile(
	`[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+\p{L}{2,}` +
		`|(?i:\b(?:https?://|www\.)[^\s]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s]*)` +
		`|@[\p{L}\p{N}_.:-]+`)

// tweet anonymises t in place: its ID, handles, names, mentions and
// e-mail addresses become fakes, avatars and thumbnails go, links (in the
// text too) point at example.com.
func (a *anonymiser) tweet(t *stream.Tweet) {
	t.ID = "anon-" + a.fake("id", t.ID)
	a.author(&t.Author)
	if t.RetweetedBy != nil {
		rt := *t.RetweetedBy
		a.author(&rt)
		t.RetweetedBy = &rt
	}
	if t.URL != "" {
		t.URL = "https://example.com/status/" + a.fake("status", t.URL)
	}
	t.ThumbnailURL = ""
	if t.Links != nil {
		links := make([]string, len(t.Links))
		for i, l := range t.Links {
			links[i] = a.link(l)
		}
		t.Links = links
	}
	t.Text = personalInText.ReplaceAllStringFunc(t.Text, func(m string) string {
		switch at := strings.IndexByte(m, '@'); {
		case at == 0:
			return "@" + a.handle(m[1:])
		case at > 0:
			return "user_" + a.fake("email", m) + "@example.com"
		}
		return a.link(m)
	})
}

func (a *anonymiser) author(au *stream.Author) {
	handle := au.Handle
	au.Handle = a.handle(handle)
	if au.Name != "" {
		au.Name = "User " + a.fake("handle", handle)
	}
	au.AvatarURL = ""
}

func (a *anonymiser) handle(h string) string { return "user_" + a.fake("handle", h) }

func (a *anonymiser) link(l string) string { return "https://example.com/l/" + a.fake("link", l) }
