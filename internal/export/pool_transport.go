package export

import (
	"net"
	"net/http"
	"time"
)

// Timeouts of the shared transport's connections. A request's own
// timeout (Config.RequestTimeout) bounds the whole request.
const (
	dialTimeout     = 10 * time.Second
	idleConnTimeout = 90 * time.Second
)

// newHTTPClient returns the client the workers share: keep-alive, and at
// most one connection per worker (MaxConnsPerHost), all of which stay
// idle between requests rather than being closed and dialed again
// (MaxIdleConnsPerHost). HTTP/1.1 only: one request per connection at a
// time, so connections in use never exceed requests in flight.
func newHTTPClient(workers int, st *stats) *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          workers,
		MaxIdleConnsPerHost:   workers,
		MaxConnsPerHost:       workers,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   dialTimeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: &meteredTransport{base: t, st: st}}
}

// meteredTransport counts requests and hands a retryable answer's
// Retry-After to the retrier (through the request's context).
type meteredTransport struct {
	base *http.Transport
	st   *stats
}

func (m *meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m.st.requests.Add(1)
	resp, err := m.base.RoundTrip(req)
	if err == nil {
		noteRetryAfter(req, resp)
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// base transport.
func (m *meteredTransport) CloseIdleConnections() { m.base.CloseIdleConnections() }
