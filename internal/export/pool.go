package export

import (
	"container/heap"
	"sync"
)

// Job classes, in the order workers take them: a page of blocks before a
// transaction, as a page lists the transactions that keep workers busy.
const (
	classPage uint8 = iota
	classTx
)

// jobKey orders jobs: by class, then by chunk (the writer waits for the
// lowest), then by position in the chunk.
type jobKey struct {
	class uint8
	chunk uint64
	index int
}

func (k jobKey) less(o jobKey) bool {
	if k.class != o.class {
		return k.class < o.class
	}
	if k.chunk != o.chunk {
		return k.chunk < o.chunk
	}
	return k.index < o.index
}

// pool is the export's worker pool: exactly n goroutines make every HTTP
// request of an export, so there are never more requests in flight (nor,
// with the transport's MaxConnsPerHost, more connections) than workers.
// Jobs wait in a priority queue, so the chunk the writer needs next is
// fetched first whatever order the chunks' goroutines submitted in.
//
// A job runs on a worker and does its own retries there (a worker that
// waits out a backoff holds no connection). close lets the workers finish
// the queue, then waits for them.
type pool struct {
	mu     sync.Mutex
	cond   sync.Cond
	queue  jobQueue
	added  uint64 // jobs submitted, to keep equal keys in order
	closed bool
	wg     sync.WaitGroup
}

// newPool starts n workers.
func newPool(n int) *pool {
	p := &pool{}
	p.cond.L = &p.mu
	p.wg.Add(n)
	for range n {
		go p.work()
	}
	return p
}

// submit queues run to be called on a worker. It panics after close: the
// owner of the pool closes it once nothing submits any more.
func (p *pool) submit(key jobKey, run func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		panic("export: job submitted to a closed pool")
	}
	heap.Push(&p.queue, &job{key: key, order: p.added, run: run})
	p.added++
	p.cond.Signal()
}

// call runs fn on a worker and waits for it.
func (p *pool) call(key jobKey, fn func() error) error {
	done := make(chan error, 1)
	p.submit(key, func() { done <- fn() })
	return <-done
}

// close ends the workers once the queue is empty and waits for them.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *pool) work() {
	defer p.wg.Done()
	for {
		j := p.take()
		if j == nil {
			return
		}
		j.run()
	}
}

// take waits for the most urgent job; nil once the pool is closed and
// drained.
func (p *pool) take() *job {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.queue) == 0 {
		return nil
	}
	return heap.Pop(&p.queue).(*job)
}

type job struct {
	key   jobKey
	order uint64
	run   func()
}

// jobQueue is a heap of jobs, most urgent first.
type jobQueue []*job

func (q jobQueue) Len() int { return len(q) }
func (q jobQueue) Less(i, j int) bool {
	if q[i].key != q[j].key {
		return q[i].key.less(q[j].key)
	}
	return q[i].order < q[j].order
}
func (q jobQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *jobQueue) Push(x any)   { *q = append(*q, x.(*job)) }
func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return j
}
