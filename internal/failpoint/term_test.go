package failpoint

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseTerm(t *testing.T) {
	tests := []struct {
		in   string
		want Term
		str  string
	}{
		{"crash", Term{Kind: Crash, Percent: 100}, "crash"},
		{"1*crash", Term{Kind: Crash, Percent: 100, Count: 1}, "1*crash"},
		{" error ", Term{Kind: Error, Percent: 100}, "error"},
		{"25%error", Term{Kind: Error, Percent: 25}, "25%error"},
		{"50%3*sleep(50ms)", Term{Kind: Sleep, Arg: 50 * time.Millisecond, Percent: 50, Count: 3}, "50%3*sleep(50ms)"},
		{"skew(+3s)", Term{Kind: Skew, Arg: 3 * time.Second, Percent: 100}, "skew(3s)"},
		{"skew(-3s)", Term{Kind: Skew, Arg: -3 * time.Second, Percent: 100}, "skew(-3s)"},
		{"off", Term{Kind: Off, Percent: 100}, "off"},
	}
	for _, tt := range tests {
		got, err := ParseTerm(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) || got.String() != tt.str {
			t.Errorf("ParseTerm(%q) = %+v (%q), %v; want %+v (%q)", tt.in, got, got.String(), err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "boom", "crash(1s)", "sleep", "sleep(1s", "sleep(-1s)", "sleep(x)", "0%crash", "101%crash", "0*crash", "x*crash"} {
		if got, err := ParseTerm(bad); !errors.Is(err, ErrBadTerm) {
			t.Errorf("ParseTerm(%q) = %+v, %v; want an error wrapping %v", bad, got, err, ErrBadTerm)
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("hot-applied=1*crash; raft-log-store=sleep(50ms);")
	want := map[string]Term{
		"hot-applied":    {Kind: Crash, Percent: 100, Count: 1},
		"raft-log-store": {Kind: Sleep, Arg: 50 * time.Millisecond, Percent: 100},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseList = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"hot-applied", "hot-applied=boom"} {
		if _, err := ParseList(bad); !errors.Is(err, ErrBadTerm) {
			t.Errorf("ParseList(%q) = %v, want an error wrapping %v", bad, err, ErrBadTerm)
		}
	}
}
