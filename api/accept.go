package api

import (
	"mime"
	"strconv"
	"strings"
)

// prefersCBOR reports whether an Accept header asks for CBOR: it must name
// application/cbor itself with a weight above zero and at least the
// weight it gives JSON (CBOR wins a tie, being the cheaper answer).
// Wildcards count for JSON only, so a browser's */* gets JSON.
func prefersCBOR(accept string) bool {
	c := acceptWeight(accept, MediaCBOR, false)
	return c > 0 && c >= acceptWeight(accept, MediaJSON, true)
}

// acceptWeight returns the weight an Accept header gives media: the q of
// the most specific range that matches it (media itself, then type/* and
// */* if wildcards), or 0. Malformed ranges are skipped.
func acceptWeight(accept, media string, wildcards bool) float64 {
	typ, _, _ := strings.Cut(media, "/")
	best, weight := -1, 0.0
	for item := range strings.SplitSeq(accept, ",") {
		rng, params, err := mime.ParseMediaType(item)
		if err != nil {
			continue
		}
		spec := -1
		switch {
		case rng == media:
			spec = 2
		case !wildcards:
		case rng == typ+"/*":
			spec = 1
		case rng == "*/*":
			spec = 0
		}
		if q, ok := qValue(params["q"]); ok && spec > best {
			best, weight = spec, q
		}
	}
	return weight
}

// qValue parses a q parameter; absent means 1.
func qValue(s string) (float64, bool) {
	if s == "" {
		return 1, true
	}
	q, err := strconv.ParseFloat(s, 64)
	return q, err == nil && q >= 0 && q <= 1
}
