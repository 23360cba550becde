package jetstream

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadMessageSkipsWhatIsTooLarge(t *testing.T) {
	var buf bytes.Buffer
	msg, err := readMessage(strings.NewReader(`{"kind":"commit"}`), &buf)
	if err != nil || string(msg) != `{"kind":"commit"}` {
		t.Errorf("readMessage = %q, %v", msg, err)
	}
	_, err = readMessage(strings.NewReader(strings.Repeat("x", maxEventBytes+1)), &buf)
	if !errors.Is(err, errTooLarge) {
		t.Errorf("a message of maxEventBytes+1: err = %v, want errTooLarge", err)
	}
	msg, err = readMessage(strings.NewReader(strings.Repeat("x", maxEventBytes)), &buf)
	if err != nil || len(msg) != maxEventBytes {
		t.Errorf("a message of maxEventBytes: %d bytes, %v", len(msg), err)
	}
}
