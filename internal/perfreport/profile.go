package perfreport

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/google/pprof/profile"
)

// ProfileSummary is where a CPU profile's time went, grouped so a reader
// who does not know the code can tell what bounds the run.
type ProfileSummary struct {
	Seconds float64        // CPU seconds sampled
	Wall    float64        // seconds of wall time the profile covered
	Run     string         // which run was profiled, for the report's text; optional
	Groups  []ProfileGroup // groups with samples, largest share first
	Top     []ProfileFunc  // the functions with the most flat time, most first
}

// ProfileGroup is one group's share of the sampled CPU time.
type ProfileGroup struct {
	Name  string
	Share float64  // of all samples, 0..1
	Top   []string // its heaviest functions (at most 3), flat
}

// ProfileFunc is one function's share of the sampled CPU time.
type ProfileFunc struct {
	Name string
	Flat float64 // as the stack's leaf, 0..1
	Cum  float64 // anywhere on the stack, 0..1
}

const (
	groupTop = 3  // functions named per group
	funcTop  = 10 // functions in ProfileSummary.Top
)

// SummarizeProfile reads a Go CPU profile (pprof's protobuf, gzipped or
// not, as /debug/pprof/profile serves it) and sorts its samples into
// groups (see classify). wall is the time the profile covered; zero means
// the duration the profile records.
//
// A group's heaviest functions are counted flat, except that runtime
// helpers (allocation, memmove) are charged to the group's function that
// called them.
func SummarizeProfile(r io.Reader, wall time.Duration) (ProfileSummary, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return ProfileSummary{}, fmt.Errorf("%w: %w", ErrBadProfile, err)
	}
	idx, err := cpuIndex(p)
	if err != nil {
		return ProfileSummary{}, err
	}
	t := newTally()
	for _, s := range p.Sample {
		t.add(stackOf(s), s.Value[idx])
	}
	if t.total <= 0 {
		return ProfileSummary{}, ErrEmptyProfile
	}
	if wall <= 0 {
		wall = time.Duration(p.DurationNanos)
	}
	return t.summary(wall), nil
}

// cpuIndex finds the sample value that holds CPU nanoseconds.
func cpuIndex(p *profile.Profile) (int, error) {
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: sample types %v", ErrNotCPUProfile, p.SampleType)
}

// stackOf lists a sample's functions from the leaf, inlined calls
// included (a location lists its inlined functions innermost first).
func stackOf(s *profile.Sample) []frame {
	var out []frame
	for _, loc := range s.Location {
		if len(loc.Line) == 0 {
			out = append(out, frame{fn: fmt.Sprintf("0x%x", loc.Address)})
		}
		for _, l := range loc.Line {
			if l.Function != nil {
				out = append(out, frame{fn: l.Function.Name, file: l.Function.Filename})
			}
		}
	}
	return out
}

// tally adds up samples, in CPU nanoseconds.
type tally struct {
	total     int64
	groups    map[string]int64
	groupFunc map[string]map[string]int64
	flat, cum map[string]int64
}

func newTally() *tally {
	return &tally{groups: map[string]int64{}, groupFunc: map[string]map[string]int64{},
		flat: map[string]int64{}, cum: map[string]int64{}}
}

func (t *tally) add(stack []frame, v int64) {
	if len(stack) == 0 || v == 0 {
		return
	}
	t.total += v
	g, by := classify(stack)
	t.groups[g] += v
	if t.groupFunc[g] == nil {
		t.groupFunc[g] = map[string]int64{}
	}
	t.groupFunc[g][by.fn] += v
	t.flat[stack[0].fn] += v
	seen := map[string]bool{}
	for _, f := range stack {
		if !seen[f.fn] {
			seen[f.fn] = true
			t.cum[f.fn] += v
		}
	}
}

func (t *tally) summary(wall time.Duration) ProfileSummary {
	s := ProfileSummary{Seconds: float64(t.total) / 1e9, Wall: wall.Seconds()}
	for _, g := range heaviest(t.groups, len(t.groups)) {
		s.Groups = append(s.Groups, ProfileGroup{Name: g, Share: t.share(t.groups[g]), Top: heaviest(t.groupFunc[g], groupTop)})
	}
	for _, fn := range heaviest(t.flat, funcTop) {
		s.Top = append(s.Top, ProfileFunc{Name: fn, Flat: t.share(t.flat[fn]), Cum: t.share(t.cum[fn])})
	}
	return s
}

func (t *tally) share(v int64) float64 { return float64(v) / float64(t.total) }

// heaviest returns at most n keys of m, largest value first, ties by name.
func heaviest(m map[string]int64, n int) []string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	return keys[:min(n, len(keys))]
}
