//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package rooms

import (
	"io"
	"syscall"
)

const canPeek = true

// peek waits until the socket has data, then copies what fits in buf
// without taking it. It reports 0 bytes once the client has closed its
// side.
func peek(raw syscall.RawConn, buf []byte) (n int, err error) {
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK)
			if rerr != syscall.EINTR {
				break
			}
		}
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	return n, err
}

// drop reads n bytes from the socket and throws them away, waiting for
// them as needed.
func drop(raw syscall.RawConn, n int) error {
	var buf [32]byte
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for n > 0 {
			k, e := syscall.Read(int(fd), buf[:min(n, len(buf))])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return false
			case e != nil:
				rerr = e
				return true
			case k == 0:
				rerr = io.ErrUnexpectedEOF
				return true
			}
			n -= k
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	return err
}
