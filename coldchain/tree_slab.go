package coldchain

// slab holds the in-memory tree's nodes of one kind in chunks of fixed
// size, so that growing it never copies it (one copy of a slice of a
// million nodes costs more than a whole Apply), and the garbage collector
// never scans it (T holds no pointers). Index 0 is never handed out.
type slab[T any] struct {
	chunks []*[slabChunk]T
	n      uint32   // indices handed out so far, 0 included
	free   []uint32 // released indices, reused first
}

const (
	slabChunkBits = 16
	slabChunk     = 1 << slabChunkBits
)

func (s *slab[T]) at(i uint32) *T { return &s.chunks[i>>slabChunkBits][i%slabChunk] }

// alloc stores v and returns its index.
func (s *slab[T]) alloc(v T) uint32 {
	if k := len(s.free); k > 0 {
		i := s.free[k-1]
		s.free = s.free[:k-1]
		*s.at(i) = v
		return i
	}
	if s.n == 0 {
		s.n = 1 // index 0 means "none"
	}
	if int(s.n>>slabChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, new([slabChunk]T))
	}
	i := s.n
	s.n++
	*s.at(i) = v
	return i
}

// release makes index i free for reuse.
func (s *slab[T]) release(i uint32) {
	var zero T
	*s.at(i) = zero
	s.free = append(s.free, i)
}

// live returns the number of indices handed out and not released.
func (s *slab[T]) live() int { return int(s.n) - min(int(s.n), 1) - len(s.free) }
