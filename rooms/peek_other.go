//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package rooms

import (
	"errors"
	"syscall"
)

// canPeek is false here: the reader leaves every read to the websocket
// library.
const canPeek = false

var errNoPeek = errors.New("peeking at a socket is not supported on this platform")

func peek(syscall.RawConn, []byte) (int, error) { return 0, errNoPeek }

func drop(syscall.RawConn, int) error { return errNoPeek }
