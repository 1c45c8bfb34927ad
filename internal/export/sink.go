package export

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Errors of the sink and of reading an export back.
var (
	ErrOptions       = errors.New("export: bad options")
	ErrOptionsDiffer = errors.New("export: the directory holds an export with other options")
	ErrChunk         = errors.New("export: bad chunk")
	ErrClosed        = errors.New("export: sink closed")
	ErrCorrupt       = errors.New("export: corrupt export")
	ErrVersion       = errors.New("export: unknown manifest version")
	ErrNoExport      = errors.New("export: no export in the directory")
)

// FileInfo is one finished file of an export.
type FileInfo struct {
	Kind  string // KindBlocks, KindTxs, ..., KindDictionary, KindCodes
	Path  string
	Bytes int64
	Rows  int64 // data rows, the header not counted
}

// Sink writes an export's files: Chunks in, one file of each kind per
// part out, a part finished once it has Options.PartTxs transactions. A
// Sink is not safe for concurrent use: the fetcher hands it chunks in
// height order from one goroutine.
type Sink struct {
	o    Options
	m    Manifest
	d    dicts
	next uint64
	part *part // nil between parts
	// written is how many values each dictionary file holds.
	writtenFunctions, writtenContracts int
	err                                error // a failed Write: the sink is of no more use
	closed                             bool
}

// OpenSink creates the export in o.Dir, or resumes the one there: its
// options must be o's (but for Node), its unfinished files are deleted
// and its dictionaries restored as of its last finished part.
func OpenSink(o Options) (*Sink, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return create(o)
	}
	return resume(o, m)
}

func create(o Options) (*Sink, error) {
	s := &Sink{o: o, m: Manifest{Version: ManifestVersion, Options: o, Parts: []Part{}}, next: o.From}
	s.d = dicts{functions: newDict(FunctionsFile), contracts: newDict(ContractsFile)}
	err := writeFileAtomic(o.Dir, CodesFile, codesCSV())
	if err == nil {
		err = s.writeDicts(true)
	}
	if err == nil {
		err = s.m.write(o.Dir)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func resume(o Options, m *Manifest) (*Sink, error) {
	if diff := m.Options.differs(o); diff != "" {
		return nil, fmt.Errorf("%w: %s", ErrOptionsDiffer, diff)
	}
	if err := removeUnlisted(o.Dir, m); err != nil {
		return nil, err
	}
	if err := checkListed(&o, m); err != nil {
		return nil, err
	}
	s := &Sink{o: o, m: *m, next: m.Next()}
	nf, nc := m.dictSizes()
	var err error
	if s.d.functions, err = loadDict(o.Dir, FunctionsFile, nf); err != nil {
		return nil, err
	}
	if s.d.contracts, err = loadDict(o.Dir, ContractsFile, nc); err != nil {
		return nil, err
	}
	if m.Complete {
		return s, nil // nothing to write: leave the files alone
	}
	s.m.Options.Node = o.Node
	err = ensureFile(o.Dir, CodesFile, codesCSV())
	if err == nil {
		err = s.writeDicts(true) // drops values of a part that was not finished
	}
	if err == nil {
		err = s.m.write(o.Dir)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkListed reports a part file the manifest lists that is missing or
// not of its recorded size.
func checkListed(o *Options, m *Manifest) error {
	for _, p := range m.Parts {
		for _, f := range p.Files {
			st, err := os.Stat(o.path(f.Name))
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			if st.Size() != f.Bytes {
				return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorrupt, f.Name, st.Size(), f.Bytes)
			}
		}
	}
	return nil
}

// ensureFile writes dir/name unless it holds data already.
func ensureFile(dir, name string, data []byte) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err == nil && bytes.Equal(b, data) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeFileAtomic(dir, name, data)
}

// writeDicts writes the dictionary files that grew since they were last
// written, or both if all.
func (s *Sink) writeDicts(all bool) error {
	if all || len(s.d.functions.values) != s.writtenFunctions {
		if err := writeFileAtomic(s.o.Dir, FunctionsFile, s.d.functions.csv()); err != nil {
			return err
		}
		s.writtenFunctions = len(s.d.functions.values)
	}
	if all || len(s.d.contracts.values) != s.writtenContracts {
		if err := writeFileAtomic(s.o.Dir, ContractsFile, s.d.contracts.csv()); err != nil {
			return err
		}
		s.writtenContracts = len(s.d.contracts.values)
	}
	return nil
}

// Next is the height the next Write must start at: after OpenSink, From
// or the height after the last finished part; after a Write, the height
// after its chunk; To+1 once everything is written. After Close it is
// where a resumed export starts.
func (s *Sink) Next() uint64 { return s.next }

// Manifest returns a copy of the manifest as last written.
func (s *Sink) Manifest() Manifest {
	m := s.m
	m.Parts = append([]Part(nil), s.m.Parts...)
	return m
}

// Write appends c's blocks to the open part, finishing the part at each
// chunk end where it has Options.PartTxs transactions, and at To. c must
// start at Next(). A chunk that fails the checks leaves the sink as it
// was; any other error leaves it of no more use but to Close, after which
// a new OpenSink resumes from the last finished part.
func (s *Sink) Write(c *Chunk) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.err != nil:
		return fmt.Errorf("export: sink failed earlier: %w", s.err)
	}
	if err := s.check(c); err != nil {
		return err
	}
	for i := range c.Hot {
		if err := s.block(c.Hot[i].Height, func(p *part) error { return p.writeHot(&c.Hot[i], &s.d) }); err != nil {
			return err
		}
	}
	for i := range c.Cold {
		if err := s.block(c.Cold[i].Block.Header.Height, func(p *part) error { return p.writeCold(&c.Cold[i], &s.d) }); err != nil {
			return err
		}
	}
	return nil
}

// block writes one block into the open part (opening one if need be) and
// finishes the part if it ends at the block.
func (s *Sink) block(height uint64, write func(*part) error) error {
	err := s.openPart()
	if err == nil {
		err = write(s.part)
	}
	if err == nil {
		s.next = height + 1
		if s.partEnds(height) {
			err = s.finishPart()
		}
	}
	if err != nil {
		s.err = fmt.Errorf("block %d: %w", height, err)
		return s.err
	}
	return nil
}

func (s *Sink) openPart() error {
	if s.part != nil {
		return nil
	}
	p, err := openPart(&s.o, len(s.m.Parts), s.next)
	s.part = p
	return err
}

// partEnds reports whether the open part ends at height: the end of a
// chunk, once the part has PartTxs transactions, or the last height.
func (s *Sink) partEnds(height uint64) bool {
	chunkEnd := (height-s.o.From+1)%s.o.ChunkBlocks == 0
	return height == s.o.To || chunkEnd && s.part.txs >= uint64(s.o.PartTxs)
}

// finishPart makes the open part's files final, then the dictionaries,
// then lists the part in the manifest. A crash before the manifest is
// replaced leaves files that the next OpenSink deletes.
func (s *Sink) finishPart() error {
	p := s.part
	s.part = nil
	files, err := p.finish()
	if err != nil {
		return err
	}
	if err := s.writeDicts(false); err != nil {
		return err
	}
	m := s.Manifest()
	m.Parts = append(m.Parts, Part{
		Number: p.number, From: p.from, To: p.to, Txs: p.txs, Files: files,
		Functions: len(s.d.functions.values), Contracts: len(s.d.contracts.values),
	})
	m.Txs += p.txs
	m.Complete = s.next > s.o.To
	if err := m.write(s.o.Dir); err != nil {
		return err
	}
	s.m = m
	return nil
}

// Close ends the sink. Once every height is written, the manifest says
// the export is complete (Write has finished the last part at To). Before
// that, the open part is dropped: its temporary files are deleted and a
// resumed export writes it again, so that the parts do not depend on
// where a run stopped. Close is safe after an error and a second time.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.part != nil {
		s.part.abort()
		s.part = nil
	}
	s.next = s.m.Next() // where a resumed export starts
	return nil
}

// Files lists every finished file: the finished parts' files, then
// codes.csv and the dictionaries.
func (s *Sink) Files() []FileInfo {
	var out []FileInfo
	for _, p := range s.m.Parts {
		for _, f := range p.Files {
			out = append(out, FileInfo{Kind: f.Kind, Path: s.o.path(f.Name), Bytes: f.Bytes, Rows: f.Rows})
		}
	}
	nf, nc := s.m.dictSizes()
	for _, f := range []FileInfo{
		{Kind: KindCodes, Path: s.o.path(CodesFile), Rows: int64(len(Codes()))},
		{Kind: KindDictionary, Path: s.o.path(FunctionsFile), Rows: int64(nf)},
		{Kind: KindDictionary, Path: s.o.path(ContractsFile), Rows: int64(nc)},
	} {
		if st, err := os.Stat(f.Path); err == nil {
			f.Bytes = st.Size()
			out = append(out, f)
		}
	}
	return out
}
