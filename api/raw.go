package api

import (
	"net/http"
)

// getRawBlock serves GET /v1/blocks/{height}/raw: the hot block in its
// canonical CBOR encoding, as the node keeps it. Nodes fetch blocks from
// one another this way to fill the history below a snapshot they restored
// (each checked against the hash its child names); a client may too, and
// should check the block's header hash the same way before trusting it.
func (s *Server) getRawBlock(w http.ResponseWriter, r *http.Request) {
	h, err := parseHeight("height", r.PathValue("height"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := s.b.RawBlock(r.Context(), h)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeRawCBOR(w, data)
}
