package netfault

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// delayer holds every packet of one NFQUEUE for delay±jitter, then
// accepts it. Packets held for different times leave in a different order
// than they came: that is the reordering. It owns two goroutines: the
// reader, which ends when the socket closes, and the releaser, which ends
// on stop after accepting whatever it still holds.
type delayer struct {
	q             *queueConn
	delay, jitter time.Duration

	in       chan held
	stop     chan struct{}
	wg       sync.WaitGroup // the reader
	released sync.WaitGroup // the releaser

	delayed   atomic.Uint64 // packets held and accepted
	reordered atomic.Uint64 // packets accepted before one that came earlier
	heldNanos atomic.Uint64 // their total time held
	errs      atomic.Uint64 // verdicts the kernel refused (or a failed receive)
}

type held struct {
	id      uint32
	seq     uint64 // arrival order
	release time.Time
	arrived time.Time
}

// startDelayer binds queue num in the namespace at nsPath and starts
// holding its packets.
func startDelayer(nsPath string, num uint16, delay, jitter time.Duration) (*delayer, error) {
	q, err := openQueue(nsPath, num)
	if err != nil {
		return nil, err
	}
	d := &delayer{q: q, delay: delay, jitter: jitter, in: make(chan held, 1024), stop: make(chan struct{})}
	d.wg.Add(1)
	d.released.Add(1)
	go d.read()
	go d.releaser()
	return d, nil
}

// read receives packets and hands them to the releaser with their
// release time, until the socket is closed.
func (d *delayer) read() {
	defer d.wg.Done()
	var seq uint64
	for {
		ids, err := d.q.receive()
		if err != nil {
			select {
			case <-d.stop:
				return
			default:
			}
			d.errs.Add(1)
			time.Sleep(time.Millisecond) // a transient error (a full buffer); a closed socket ends on stop
			continue
		}
		now := time.Now()
		for _, id := range ids {
			seq++
			select {
			case d.in <- held{id: id, seq: seq, arrived: now, release: now.Add(d.hold())}:
			case <-d.stop:
				return
			}
		}
	}
}

// hold is a uniform draw from [delay-jitter, delay+jitter], at least 0.
func (d *delayer) hold() time.Duration {
	h := d.delay
	if d.jitter > 0 {
		h += time.Duration(rand.Int64N(int64(2*d.jitter)+1)) - d.jitter
	}
	return max(h, 0)
}

// releaser accepts each packet at its release time; on stop it accepts
// everything still held at once.
func (d *delayer) releaser() {
	defer d.released.Done()
	var h heldHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var maxSeq uint64
	for {
		if len(h) > 0 {
			timer.Reset(time.Until(h[0].release))
		}
		select {
		case p := <-d.in:
			heap.Push(&h, p)
		case <-timer.C:
			for len(h) > 0 && !h[0].release.After(time.Now()) {
				d.accept(heap.Pop(&h).(held), &maxSeq)
			}
		case <-d.stop:
			for len(h) > 0 {
				d.accept(heap.Pop(&h).(held), &maxSeq)
			}
			return
		}
	}
}

func (d *delayer) accept(p held, maxSeq *uint64) {
	if err := d.q.accept(p.id); err != nil {
		d.errs.Add(1)
		return
	}
	d.delayed.Add(1)
	d.heldNanos.Add(uint64(time.Since(p.arrived)))
	if p.seq < *maxSeq {
		d.reordered.Add(1)
	}
	*maxSeq = max(*maxSeq, p.seq)
}

// close stops the delayer: the releaser accepts every packet it holds,
// then the socket is closed (which unbinds the queue and ends the
// reader). Packets queued after the releaser's last verdict are dropped
// by the kernel: remove the NFQUEUE rule first.
func (d *delayer) close() error {
	close(d.stop)
	d.released.Wait()
	err := d.q.close()
	d.wg.Wait()
	return err
}

// heldHeap orders held packets by release time.
type heldHeap []held

func (h heldHeap) Len() int           { return len(h) }
func (h heldHeap) Less(i, j int) bool { return h[i].release.Before(h[j].release) }
func (h heldHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)        { *h = append(*h, x.(held)) }
func (h *heldHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}
