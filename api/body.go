package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// decodeAdminBody decodes the JSON body of an admin request into v as
// strictly as a submission is decoded: at most limit bytes (too_large, 413,
// past it), no unknown fields (a misspelt "voter" must not silently add an
// edge node), and nothing after the value. what names the request in
// errors. An empty body leaves v as it is when emptyOK, else it is an
// error.
func decodeAdminBody(w http.ResponseWriter, r *http.Request, limit int64, what string, emptyOK bool, v any) error {
	data, err := io.ReadAll(limitBody(w, r, limit))
	switch {
	case err != nil:
		return bodyError(err, limit)
	case emptyOK && len(bytes.TrimSpace(data)) == 0:
		return nil
	}
	if err := strictJSON(data, v); err != nil {
		return errorf(CodeBadRequest, what+": "+err.Error(), nil)
	}
	return nil
}

// limitBody is http.MaxBytesReader on the server's own ResponseWriter,
// under any wrappers (statusWriter): only that one learns that the limit
// was hit, and then closes the connection after the answer instead of
// first reading on into a body it has refused, which keeps a client that
// stops sending mid-body from getting its 413 until the read timeout.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) io.ReadCloser {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return http.MaxBytesReader(w, r.Body, limit)
		}
		w = u.Unwrap()
	}
}

// bodyError is the error for a failed read of a body of at most limit
// bytes: too_large (413) past the limit, else bad_request.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	return errorf(CodeBadRequest, fmt.Sprintf("read request body: %v", err), err)
}
