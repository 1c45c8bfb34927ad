package robustness

import (
	"math/rand/v2"
	"time"
)

// schedule picks faults and the times between them from a seeded RNG. It
// deals the faults like a deck, reshuffled once dealt: every kind comes
// once before any comes twice, so a short run covers them all.
type schedule struct {
	rng    *rand.Rand
	faults []Fault
	deck   []int
}

func newSchedule(seed int64, faults []Fault) *schedule {
	return &schedule{rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), faults: faults}
}

// next returns the next fault, nil if there are none.
func (s *schedule) next() Fault {
	if len(s.faults) == 0 {
		return nil
	}
	if len(s.deck) == 0 {
		s.deck = s.rng.Perm(len(s.faults))
	}
	f := s.faults[s.deck[0]]
	s.deck = s.deck[1:]
	return f
}

// between returns a duration in r, uniformly.
func (s *schedule) between(r [2]time.Duration) time.Duration {
	if r[1] <= r[0] {
		return r[0]
	}
	return r[0] + time.Duration(s.rng.Int64N(int64(r[1]-r[0])))
}

// victims is the RNG faults pick their victims with, apart from the
// schedule's so that a fault's choice does not change the schedule.
func victims(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0x71c7)) }
