package rooms

import (
	"encoding/json"
)

// Error codes sent in `error` messages. They are part of the live protocol:
// stable identifiers a client can switch on.
const (
	CodeBadRequest    = "bad_request"
	CodeBadRoom       = "bad_room"
	CodeTooManyRooms  = "too_many_rooms"
	CodeTooManyTrends = "too_many_trends"
	CodeRateLimited   = "rate_limited"
	CodeNotJoined     = "not_joined"
	// CodeUnavailable extends the protocol: the room cannot be joined for
	// now (its history is out of reach), and a later join may succeed.
	CodeUnavailable = "unavailable"
	// CodeInternal extends the protocol: the server failed to answer a
	// message, and says no more (it logs why).
	CodeInternal = "internal_error"
)

// clientMessage is any message a client sends; which fields count depends on
// Type.
type clientMessage struct {
	Type  string  `json:"type"`
	Room  *string `json:"room"`
	Epoch string  `json:"epoch"`
	Since *uint64 `json:"since"`
	Mode  string  `json:"mode"`
	// Paused extends the protocol: a join that arrives paused, as a page
	// whose paused column reconnects.
	Paused bool `json:"paused"`
}

type joinedMessage struct {
	Type      string `json:"type"`
	Room      string `json:"room"`
	Epoch     string `json:"epoch"`
	Seq       uint64 `json:"seq"`
	Recovered *bool  `json:"recovered,omitempty"`
	Members   int    `json:"members"`
	// Held extends the protocol: for a join that arrived paused, the
	// tweets held back already.
	Held *uint64 `json:"held,omitempty"`
}

type leftMessage struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

type retractMessage struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
}

type statsMessage struct {
	Type      string `json:"type"`
	Room      string `json:"room"`
	Members   int    `json:"members"`
	PerMinute int    `json:"per_minute"`
	// Held extends the protocol: sent only to a paused member, it counts
	// the tweets held back since the pause.
	Held *uint64 `json:"held,omitempty"`
}

type skippedMessage struct {
	Type    string `json:"type"`
	Room    string `json:"room"`
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Count   uint64 `json:"count"`
}

type errorMessage struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Room is the room the refused message named; nil when it named none.
	Room *string `json:"room,omitempty"`
}

// trendsMessage extends the protocol: it tells every connection the trend
// list with live counts, so the page's list stays current.
type trendsMessage struct {
	Type   string    `json:"type"`
	Trends []Summary `json:"trends"`
	// HTML is the list's entries as the page renders them, so that a
	// script need not build that markup itself.
	HTML string `json:"html,omitempty"`
}

// encode marshals a server message. The messages above hold only strings
// and numbers, so marshalling cannot fail.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("rooms: encoding a server message: " + err.Error())
	}
	return b
}
