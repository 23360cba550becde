package twitter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
	tt "github.com/tweetstreamer/tweetstreamer/stream/twitter/twittertest"
)

func TestTrending(t *testing.T) {
	t.Run("lists the world's trends by default, without the #", func(t *testing.T) {
		h := newHarness(t)
		got, err := h.src.Trending(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []stream.TagCount{{Tag: "GoLang", Count: 12345}, {Tag: "World Cup", Count: 67890}, {Tag: "rustlang", Count: 0}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Trending = %v, want %v", got, want)
		}
		reqs := h.srv.TrendsRequests()
		if len(reqs) != 1 || reqs[0].WOEID != "1" || !reqs[0].Verified {
			t.Errorf("requests %+v: want one, signed, for WOEID 1", reqs)
		}
	})
	t.Run("asks for the configured place, and skips nameless trends", func(t *testing.T) {
		h := newHarness(t)
		h.src.woeid = 23424977
		h.srv.SetTrends(tt.Answer(http.StatusOK, fixture(t, "trends_place.json")))
		got, err := h.src.Trending(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []stream.TagCount{{Tag: "SuperBowl", Count: 1523004}, {Tag: "Taylor Swift", Count: 310455}, {Tag: "NationalPiDay", Count: 0}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Trending = %v, want %v", got, want)
		}
		if reqs := h.srv.TrendsRequests(); reqs[0].WOEID != "23424977" {
			t.Errorf("asked for WOEID %s", reqs[0].WOEID)
		}
	})
	t.Run("lists at most fifty", func(t *testing.T) {
		h := newHarness(t)
		var list []string
		for i := range 60 {
			list = append(list, fmt.Sprintf(`{"name":"#t%d","tweet_volume":%d}`, i, i))
		}
		h.srv.SetTrends(tt.Answer(http.StatusOK, `[{"trends":[`+strings.Join(list, ",")+`]}]`))
		got, err := h.src.Trending(t.Context())
		if err != nil || len(got) != 50 || got[49].Tag != "t49" {
			t.Errorf("Trending = %d trends, %v; want the first 50", len(got), err)
		}
	})
}

func TestTrendingFailures(t *testing.T) {
	tests := []struct {
		name    string
		answer  tt.Response
		wantErr string
	}{
		{"a refusal, with Twitter's reason", tt.Answer(http.StatusUnauthorized, `{"errors":[{"code":89,"message":"Invalid or expired token."}]}`),
			`HTTP 401 Unauthorized: check the credentials, and that this machine's clock is right (Twitter says "89 Invalid or expired token.")`},
		{"a failure with an empty body, which go-twitter lets pass", tt.Response{Status: http.StatusServiceUnavailable},
			"HTTP 503 Service Unavailable"},
		{"a failure with an HTML body", tt.Answer(http.StatusBadGateway, "<html>bad gateway</html>"), "HTTP 502 Bad Gateway"},
		{"a body that is not JSON", tt.Answer(http.StatusOK, `[{"trends":`), "unexpected EOF"},
		{"a body too large", tt.Answer(http.StatusOK, `[{"trends":[],"pad":"`+strings.Repeat("x", maxTrendsBody)+`"}]`),
			"response body too large"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.SetTrends(test.answer)
			got, err := h.src.Trending(t.Context())
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("Trending = %v, %v; want an error containing %q", got, err, test.wantErr)
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}
}

func TestTrendingGivesUpWhenCancelled(t *testing.T) {
	h := newHarness(t)
	h.srv.SetTrends(tt.Response{Steps: []tt.Step{tt.Stall()}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.src.Trending(ctx)
		done <- err
	}()
	for deadline := time.Now().Add(waitLimit); len(h.srv.TrendsRequests()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no trends/place request came")
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Trending returned %v, want context.Canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Trending did not return once its context was done")
	}
}
