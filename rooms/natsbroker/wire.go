// Package natsbroker runs the rooms of several processes over NATS: one
// ingest node sequences every room and keeps its history, and web nodes
// serve members and receive a room's tweets only while they have members
// in it. It is the only importer of nats.go; docs/CLUSTER.md describes the
// subjects and payloads below.
package natsbroker

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

// Subjects. A room's name becomes one subject token in base64url, which
// holds only letters, digits, '-' and '_', whatever the name holds (spaces,
// dots, '*', '>', any Unicode).
const (
	roomPrefix     = "ts.room."
	historySubject = "ts.rpc.history"
	trendSubject   = "ts.rpc.trend"
	ingestSubject  = "ts.ctl.ingest"
	countsPrefix   = "ts.ctl.counts."
)

// RoomSubject is the NATS subject a room's tweets go out on, for an
// operator or a test that watches it.
func RoomSubject(room string) string {
	return roomPrefix + base64.RawURLEncoding.EncodeToString([]byte(room))
}

// A room subject carries two kinds of message, each a header line and a
// body:
//
//	p <epoch> <seq>\n<tweet frame>    a tweet, the frame clients get
//	r <epoch> <seq>\n<id>             a retract of the tweet at seq
//
// so that a web node forwards the frame without decoding or encoding it.

func appendPub(dst []byte, epoch string, seq uint64, frame []byte) []byte {
	dst = append(dst, "p "...)
	dst = append(dst, epoch...)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, '\n')
	return append(dst, frame...)
}

func appendRetract(dst []byte, epoch string, seq uint64, id string) []byte {
	dst = append(dst, "r "...)
	dst = append(dst, epoch...)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, '\n')
	return append(dst, id...)
}

// roomMessage is one decoded message of a room subject.
type roomMessage struct {
	retract bool
	epoch   string
	seq     uint64
	body    []byte // the frame, or the retracted id
}

var errBadRoomMessage = errors.New("natsbroker: a room message that is not p or r, epoch and seq")

func parseRoomMessage(data []byte) (roomMessage, error) {
	head, body, ok := bytes.Cut(data, []byte{'\n'})
	if !ok || len(head) < 2 || head[1] != ' ' || head[0] != 'p' && head[0] != 'r' {
		return roomMessage{}, errBadRoomMessage
	}
	epoch, seq, ok := bytes.Cut(head[2:], []byte{' '})
	if !ok || len(epoch) == 0 {
		return roomMessage{}, errBadRoomMessage
	}
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil || n == 0 {
		return roomMessage{}, errBadRoomMessage
	}
	return roomMessage{retract: head[0] == 'r', epoch: string(epoch), seq: n, body: body}, nil
}

// historyRequest asks the ingest node for a room's history after Since.
type historyRequest struct {
	Room  string `json:"room"`
	Since uint64 `json:"since"`
}

// historyReply is one page of a room's history. A reply holds at most
// maxReplyBytes of frames; More says that more follow Since of the last
// one, to be asked for with another request.
type historyReply struct {
	Epoch  string     `json:"epoch"`
	Seq    uint64     `json:"seq"`
	Oldest uint64     `json:"oldest"`
	Cap    int        `json:"cap"` // how many tweets the ingest node keeps per room
	Pubs   []wirePub  `json:"pubs"`
	More   bool       `json:"more,omitempty"`
	Error  *wireError `json:"error,omitempty"`
}

type wirePub struct {
	Seq       uint64          `json:"seq"`
	Frame     json.RawMessage `json:"frame,omitempty"`
	Retracted bool            `json:"retracted,omitempty"`
}

// maxReplyBytes keeps a reply well under NATS's default payload limit of
// 1 MB; a server with a lower limit gets pages of half its limit.
const maxReplyBytes = 512 << 10

// trendRequest asks the ingest node to follow a custom trend.
type trendRequest struct {
	Trend string `json:"trend"`
}

// trendReply answers it: Error is nil when the trend is followed.
type trendReply struct {
	Added bool       `json:"added"`
	Error *wireError `json:"error,omitempty"`
}

// wireError is a refusal that crosses nodes: a stable code and a message
// fit for a client.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *wireError) Error() string { return e.Message }

// Codes of wireError.
const (
	codeTooManyTrends = "too_many_trends"
	codeBadTrend      = "bad_trend"
	codeInternal      = "internal"
)

// heartbeat is what the ingest node tells every web node each
// heartbeatEvery: the trend list with its rates, and the latest
// announcements (the source's status, the trending tags), as encoded.
type heartbeat struct {
	Node string `json:"node"`
	// Source names where the tweets come from, for the page.
	Source string `json:"source"`
	// History is how many tweets the ingest node keeps per room: a web
	// node's queues make room for a backlog that long.
	History       int                `json:"history"`
	Trends        []rooms.Summary    `json:"trends"`
	Announcements []wireAnnouncement `json:"announcements"`
}

type wireAnnouncement struct {
	Kind  string          `json:"kind"`
	Frame json.RawMessage `json:"frame"`
}

// countsReport is what a web node tells every node each countsEvery: its
// members per room.
type countsReport struct {
	Node  string         `json:"node"`
	Rooms map[string]int `json:"rooms"`
}

func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("natsbroker: decoding %T: %w", v, err)
	}
	return nil
}

// jsonMarshal encodes v without escaping '<', '>' and '&': the frames
// inside are sent to browsers as they are, and escaping them would make
// a page of history up to six times its size.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("natsbroker: encoding %T: %w", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
