package failpoint

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxTermBody bounds a PUT's body: a term is a few bytes.
const maxTermBody = 1 << 10

// Handler serves r under /debug/failpoints:
//
//	GET    /debug/failpoints         every point: {"name": {"action": "1*crash", "hits": 0}, ...}
//	GET    /debug/failpoints/{name}  one point
//	PUT    /debug/failpoints/{name}  arm it; the body is a term ("sleep(50ms)")
//	DELETE /debug/failpoints/{name}  disarm it
//
// An unknown point is 404, a term that does not parse 400.
func Handler(r *Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/failpoints", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, r.All())
	})
	mux.HandleFunc("GET /debug/failpoints/{name}", func(w http.ResponseWriter, req *http.Request) {
		st, err := r.Status(req.PathValue("name"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, st)
	})
	mux.HandleFunc("PUT /debug/failpoints/{name}", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxTermBody))
		if err != nil {
			http.Error(w, "failpoint: read the term: "+err.Error(), http.StatusBadRequest)
			return
		}
		t, err := ParseTerm(strings.TrimSpace(string(body)))
		if err == nil {
			err = r.Arm(req.PathValue("name"), t)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /debug/failpoints/{name}", func(w http.ResponseWriter, req *http.Request) {
		if err := r.Disarm(req.PathValue("name")); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code := http.StatusBadRequest
	if errors.Is(err, ErrUnknown) {
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}
