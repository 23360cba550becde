package rooms

import "fmt"

// variant is what of each tweet a connection reads, chosen when it
// connects (GET /ws?tweet=...): every member of a room that reads the same
// variant shares one encoding of each tweet, and a part no member reads
// (the card, the tweet object) is never made.
type variant uint8

const (
	// variantFull is the protocol's tweet message: matched, the tweet
	// object and the card. It is the default.
	variantFull variant = iota
	// variantCard carries the card alone, with the seq: what a page reads.
	variantCard
	// variantData carries matched and the tweet object, without the card:
	// what a client that builds its own view reads.
	variantData
	// variantSeq carries the seq and the tweet's ingested_at: what a load
	// generator reads.
	variantSeq
	numVariants
)

// variantNames are the values of the tweet parameter, by variant.
var variantNames = [numVariants]string{"full", "card", "data", "seq"}

func (v variant) String() string { return variantNames[v] }

// parseVariant reads the tweet parameter of GET /ws; empty means full.
func parseVariant(s string) (variant, error) {
	if s == "" {
		return variantFull, nil
	}
	for v, name := range variantNames {
		if s == name {
			return variant(v), nil
		}
	}
	return 0, fmt.Errorf(`"tweet" must be one of full, card, data or seq, not %q`, clip(s))
}
