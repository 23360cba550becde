package twittertest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dghubble/oauth1"
)

// client signs with these keys and sends requests for Twitter's hosts to
// srv.
func client(srv *Server, consumerSecret, tokenSecret string) *http.Client {
	base, _ := url.Parse(srv.URL)
	redirect := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = base.Scheme, base.Host, ""
		return http.DefaultTransport.RoundTrip(req)
	})
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: redirect})
	return oauth1.NewConfig("consumer-key", consumerSecret).Client(ctx, oauth1.NewToken("token", tokenSecret))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func post(t *testing.T, c *http.Client, rawURL, form string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestServerVerifiesSignaturesForTwittersURL(t *testing.T) {
	srv := NewServer(t, Answer(http.StatusOK, ""), Answer(http.StatusOK, ""), Answer(http.StatusOK, ""))
	srv.Verify("consumer-secret", "token-secret")
	const filter = "https://stream.twitter.com/1.1/statuses/filter.json"
	track := url.Values{"track": {"#web dev,über,a~b"}}.Encode()

	post(t, client(srv, "consumer-secret", "token-secret"), filter+"?"+track, "").Body.Close()
	post(t, client(srv, "consumer-secret", "token-secret"), filter, track).Body.Close()
	post(t, client(srv, "consumer-secret", "wrong"), filter, track).Body.Close()

	reqs := srv.Requests()
	for i, want := range []bool{true, true, false} {
		if reqs[i].Verified != want || !reqs[i].Signed {
			t.Errorf("request %d: verified %v, signed %v; want verified %v", i+1, reqs[i].Verified, reqs[i].Signed, want)
		}
		if !slices.Equal(reqs[i].Track, []string{"#web dev", "über", "a~b"}) {
			t.Errorf("request %d: track %q", i+1, reqs[i].Track)
		}
	}
	if reqs[0].Query.Get("track") == "" || reqs[1].Query.Get("track") != "" {
		t.Errorf("queries %v, %v: want the track in the first only", reqs[0].Query, reqs[1].Query)
	}
}

func TestServerFollowsItsScriptThenFallsBack(t *testing.T) {
	srv := NewServer(t, Answer(420, "Exceeded connection limit for user"), Response{Status: http.StatusServiceUnavailable})
	srv.SetFallback(Stream([]string{"{}"}))
	c := http.DefaultClient
	const filter = "/1.1/statuses/filter.json"
	want := []struct {
		status int
		body   string
		length int64
	}{
		{420, "Exceeded connection limit for user", -1},
		{http.StatusServiceUnavailable, "", 0},
		{http.StatusOK, "{}\r\n", -1},
		{http.StatusOK, "{}\r\n", -1},
	}
	for i, w := range want {
		resp, err := c.Post(srv.URL+filter, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != w.status || string(body) != w.body || resp.ContentLength != w.length {
			t.Errorf("answer %d: %d %q (length %d), want %d %q (length %d)",
				i+1, resp.StatusCode, body, resp.ContentLength, w.status, w.body, w.length)
		}
	}
	if n := len(srv.WaitRequests(t, 4)); n != 4 {
		t.Errorf("%d requests recorded", n)
	}
}

func TestServerSplitsBurstsAcrossChunks(t *testing.T) {
	srv := NewServer(t, Response{Steps: []Step{KeepAlive(), Burst(3, `{"a":1}`, `{"b":2}`), Abort()}})
	resp, err := http.Post(srv.URL+"/1.1/statuses/filter.json", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err != io.ErrUnexpectedEOF {
				t.Errorf("the aborted body ended with %v, want io.ErrUnexpectedEOF", err)
			}
			break
		}
		lines = append(lines, line)
	}
	if want := []string{"\r\n", "{\"a\":1}\r\n", "{\"b\":2}\r\n"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

func TestServerAbortsBeforeAnswering(t *testing.T) {
	srv := NewServer(t, Response{Steps: []Step{Abort()}})
	if resp, err := http.Post(srv.URL+"/1.1/statuses/filter.json", "", nil); err == nil {
		resp.Body.Close()
		t.Errorf("got %s, want no answer", resp.Status)
	}
}
