package failpoint

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of this package.
var (
	// ErrInjected is what an armed error action returns.
	ErrInjected = errors.New("failpoint: injected error")
	// ErrBadTerm is a term or a list of terms that does not parse.
	ErrBadTerm = errors.New("failpoint: bad term")
	// ErrUnknown is a point not in Points.
	ErrUnknown = errors.New("failpoint: unknown point")
)

// Kind is what a point does when it fires.
type Kind string

// The kinds of action.
const (
	Off   Kind = "off"
	Crash Kind = "crash"
	Error Kind = "error"
	Sleep Kind = "sleep" // takes a duration
	Skew  Kind = "skew"  // takes a duration, maybe negative: Offset's answer
)

// Term is a parsed action: [P%][N*]kind[(arg)].
type Term struct {
	Kind    Kind
	Arg     time.Duration // sleep's and skew's duration
	Percent float64       // 0 < Percent <= 100: the chance each evaluation fires
	Count   int           // > 0: fire this many times only; 0: no limit
}

// ParseTerm parses a term such as "crash", "1*crash", "50%error",
// "sleep(50ms)" or "skew(-3s)".
func ParseTerm(s string) (Term, error) {
	t := Term{Percent: 100}
	rest := strings.TrimSpace(s)
	if p, after, ok := strings.Cut(rest, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v <= 0 || v > 100 {
			return t, fmt.Errorf("%w: %q: percent %q is not in (0, 100]", ErrBadTerm, s, p)
		}
		t.Percent, rest = v, after
	}
	if c, after, ok := strings.Cut(rest, "*"); ok {
		v, err := strconv.Atoi(c)
		if err != nil || v <= 0 {
			return t, fmt.Errorf("%w: %q: count %q is not a positive integer", ErrBadTerm, s, c)
		}
		t.Count, rest = v, after
	}
	kind, arg, hasArg := strings.Cut(rest, "(")
	t.Kind = Kind(kind)
	switch t.Kind {
	case Off, Crash, Error:
		if hasArg {
			return t, fmt.Errorf("%w: %q: %s takes no argument", ErrBadTerm, s, kind)
		}
	case Sleep, Skew:
		d, err := parseArg(arg, hasArg)
		if err != nil || t.Kind == Sleep && d < 0 {
			return t, fmt.Errorf("%w: %q: %s needs a duration, as %s(50ms)", ErrBadTerm, s, kind, kind)
		}
		t.Arg = d
	default:
		return t, fmt.Errorf("%w: %q: kind %q is none of off, crash, error, sleep(d), skew(d)", ErrBadTerm, s, kind)
	}
	return t, nil
}

// parseArg parses "d)" into a duration ("+3s" as well as "3s").
func parseArg(arg string, has bool) (time.Duration, error) {
	d, ok := strings.CutSuffix(arg, ")")
	if !has || !ok {
		return 0, ErrBadTerm
	}
	return time.ParseDuration(strings.TrimPrefix(d, "+"))
}

// String formats t as ParseTerm reads it.
func (t Term) String() string {
	var b strings.Builder
	if t.Percent > 0 && t.Percent < 100 {
		b.WriteString(strconv.FormatFloat(t.Percent, 'g', -1, 64) + "%")
	}
	if t.Count > 0 {
		b.WriteString(strconv.Itoa(t.Count) + "*")
	}
	b.WriteString(string(t.Kind))
	if t.Kind == Sleep || t.Kind == Skew {
		b.WriteString("(" + t.Arg.String() + ")")
	}
	return b.String()
}

// ParseList parses "name=term;name=term" (DUALCHAIN_FAILPOINTS' form)
// into terms by name. Empty items are ignored.
func ParseList(s string) (map[string]Term, error) {
	out := make(map[string]Term)
	for item := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, term, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %q is not name=term", ErrBadTerm, item)
		}
		t, err := ParseTerm(term)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSpace(name)] = t
	}
	return out, nil
}
