package node

import (
	"slices"
	"testing"
)

// A block whose proposal never reached Raft is the newest in the pipeline,
// not the oldest: popping it must remove it, or every later block would be
// executed on its writes and be stale on every node.
func TestPipelinePopsAnyBlock(t *testing.T) {
	var p pipeline
	b1, b2, b3 := &inflight{}, &inflight{}, &inflight{}
	for _, b := range []*inflight{b1, b2, b3} {
		p.push(b)
	}
	p.pop(b3) // its Propose failed: never in Raft
	if !slices.Equal(p.blocks, []*inflight{b1, b2}) {
		t.Fatalf("after popping the newest: %v", p.blocks)
	}
	p.pop(b1)
	p.pop(b1) // twice: no effect
	if !slices.Equal(p.blocks, []*inflight{b2}) {
		t.Fatalf("after popping the oldest: %v", p.blocks)
	}
	p.reset()
	if len(p.blocks) != 0 {
		t.Fatalf("after reset: %v", p.blocks)
	}
}
