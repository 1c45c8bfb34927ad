package export

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/dualchain/dualchain/client"
)

// Errors of fetching, tested with errors.Is.
var (
	// ErrRefused is a request the node answered with a client error
	// (4xx other than 429): asking again would get the same answer.
	ErrRefused = errors.New("export: the node refused a request")
	// ErrGaveUp is a request that still failed after every retry.
	ErrGaveUp = errors.New("export: gave up on a request")
	// ErrBadAnswer is an answer that contradicts the request or another
	// answer: a transaction at another place than its block lists it.
	ErrBadAnswer = errors.New("export: the node's answer does not match")
)

// errShortPage is a page of blocks that does not cover what was asked
// and does not say where to go on: retried, as a node behind a load
// balancer may lag its peers.
var errShortPage = errors.New("the page of blocks is short")

// retrier makes one request with retries: exponential backoff with
// jitter on transport errors, 5xx, 429 and bodies that do not decode;
// Retry-After is honoured. Each attempt has its own timeout.
type retrier struct {
	retries       int           // attempts after the first
	timeout       time.Duration // of one attempt, the body read included
	initial, max  time.Duration // backoff's first and longest wait
	maxRetryAfter time.Duration // a longer Retry-After is cut to this
	st            *stats
}

// do runs fn until it succeeds, fails for good, or the retries run out.
// what names the request in errors ("GET /v1/blocks?from=1&to=100").
func (r *retrier) do(ctx context.Context, what string, fn func(context.Context) error) error {
	attempts := 0
	op := func() (struct{}, error) {
		attempts++
		return struct{}{}, r.attempt(ctx, fn)
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(r.backOff()),
		backoff.WithMaxTries(uint(r.retries)+1),
		backoff.WithMaxElapsedTime(0), // the tries bound it
		backoff.WithNotify(func(err error, _ time.Duration) { r.st.retried(what, err) }))
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrRefused), errors.Is(err, ErrBadAnswer):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %d attempts, the last: %w", ErrGaveUp, what, attempts, err)
}

func (r *retrier) backOff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = r.initial, r.max
	b.Multiplier, b.RandomizationFactor = 2, 0.5
	return b
}

// attempt runs fn once under the request timeout and says whether its
// error is worth another try.
func (r *retrier) attempt(ctx context.Context, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return backoff.Permanent(err)
	}
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var after time.Duration
	err := fn(withRetryAfter(actx, &after))
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return backoff.Permanent(ctx.Err())
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no answer within %v: %w", r.timeout, err)
	}
	return r.classify(err, after)
}

// classify marks err permanent unless another try may succeed, and
// carries the node's Retry-After.
func (r *retrier) classify(err error, after time.Duration) error {
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && !retryable(ce.HTTPStatus):
		return backoff.Permanent(fmt.Errorf("%w: HTTP %d: %w", ErrRefused, ce.HTTPStatus, err))
	case errors.Is(err, ErrBadAnswer):
		return backoff.Permanent(err)
	case after > 0:
		return &retryAfterError{err: err, ra: backoff.RetryAfterError{Duration: min(after, r.maxRetryAfter)}}
	}
	return err
}

// retryable reports an HTTP status worth asking again after: the node
// was overloaded or failed, not the request.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// retryAfterError is a retryable error with the wait the node asked for:
// backoff.Retry finds the RetryAfterError, the message stays the node's.
type retryAfterError struct {
	err error
	ra  backoff.RetryAfterError
}

func (e *retryAfterError) Error() string   { return e.err.Error() }
func (e *retryAfterError) Unwrap() []error { return []error{e.err, &e.ra} }

// retryAfterKey is the context key of the slot where the transport puts
// a response's Retry-After.
type retryAfterKey struct{}

func withRetryAfter(ctx context.Context, slot *time.Duration) context.Context {
	return context.WithValue(ctx, retryAfterKey{}, slot)
}

// noteRetryAfter puts resp's Retry-After in the request's slot, if any.
func noteRetryAfter(req *http.Request, resp *http.Response) {
	slot, ok := req.Context().Value(retryAfterKey{}).(*time.Duration)
	if ok && retryable(resp.StatusCode) {
		*slot = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date; 0
// when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
