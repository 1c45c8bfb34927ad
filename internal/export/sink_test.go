package export

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/internal/export/exporttest"
)

// formats are every format and compression an export can be written in.
var formats = []struct{ format, compress string }{
	{FormatCSV, CompressNone}, {FormatCSV, CompressGzip}, {FormatCSV, CompressZstd},
	{FormatParquet, CompressNone}, {FormatParquet, CompressGzip}, {FormatParquet, CompressZstd},
}

func testOptions(dir, chain, format, compress string, to uint64) Options {
	return Options{
		Dir: dir, Chain: chain, Format: format, Compress: compress, From: 1, To: to,
		ChunkBlocks: 3, PartTxs: 25, ChainID: testChainID, Node: "http://127.0.0.1:1",
	}
}

// writeAll writes chunks into a new sink and closes it.
func writeAll(t *testing.T, o Options, chunks []*Chunk) *Sink {
	t.Helper()
	s, err := OpenSink(o)
	if err != nil {
		t.Fatalf("OpenSink(%+v) = %v", o, err)
	}
	for _, c := range chunks {
		if err := s.Write(c); err != nil {
			t.Fatalf("Write(%d to %d) = %v", c.From, c.To, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return s
}

// TestRoundTrip writes a synthetic chain in every format and compression
// and reads it back: every field of every view must come back.
func TestRoundTrip(t *testing.T) {
	for _, chain := range []string{ChainHot, ChainCold} {
		tc := newTestChain(chain, 20, 6, 1)
		for _, f := range formats {
			t.Run(chain+"/"+f.format+"/"+f.compress, func(t *testing.T) {
				o := testOptions(t.TempDir(), chain, f.format, f.compress, 20)
				s := writeAll(t, o, tc.chunks(1, 20, 3))
				if s.Next() != 21 {
					t.Errorf("Next() = %d, want 21", s.Next())
				}
				ds, err := ReadDataset(o.Dir)
				if err != nil {
					t.Fatalf("ReadDataset = %v", err)
				}
				if !ds.Manifest.Complete || len(ds.Manifest.Parts) < 2 {
					t.Errorf("manifest complete %v with %d parts, want complete with several", ds.Manifest.Complete, len(ds.Manifest.Parts))
				}
				got, err := ds.Chunk()
				if err != nil {
					t.Fatalf("Dataset.Chunk() = %v", err)
				}
				checkChunk(t, normalized(got), normalized(tc.chunk(1, 20)))
				checkFiles(t, s, ds)
			})
		}
	}
}

// checkChunk compares two chunks block by block and transaction by
// transaction, so that a failure names what differs.
func checkChunk(t *testing.T, got, want *Chunk) {
	t.Helper()
	if got.From != want.From || got.To != want.To || len(got.Hot) != len(want.Hot) || len(got.Cold) != len(want.Cold) {
		t.Fatalf("chunk %d to %d of %d hot and %d cold blocks, want %d to %d of %d and %d",
			got.From, got.To, len(got.Hot), len(got.Cold), want.From, want.To, len(want.Hot), len(want.Cold))
	}
	for i := range want.Hot {
		g, w := got.Hot[i], want.Hot[i]
		for j := range min(len(g.Txs), len(w.Txs)) {
			if !reflect.DeepEqual(g.Txs[j], w.Txs[j]) {
				t.Errorf("block %d tx %d =\n%+v\nwant\n%+v", w.Height, j, g.Txs[j], w.Txs[j])
			}
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("block %d =\n%+v\nwant\n%+v", w.Height, g, w)
		}
	}
	for i := range want.Cold {
		g, w := got.Cold[i], want.Cold[i]
		if !reflect.DeepEqual(g.Txs, w.Txs) {
			t.Errorf("cold block %d txs =\n%+v\nwant\n%+v", w.Block.Header.Height, g.Txs, w.Txs)
		}
		if !reflect.DeepEqual(g.Block, w.Block) {
			t.Errorf("cold block %d =\n%+v\nwant\n%+v", w.Block.Header.Height, g.Block, w.Block)
		}
	}
}

// checkFiles checks Files against the disk and the dataset's rows.
func checkFiles(t *testing.T, s *Sink, ds *Dataset) {
	t.Helper()
	rows := map[string]int64{}
	for _, f := range s.Files() {
		st, err := os.Stat(f.Path)
		if err != nil || st.Size() != f.Bytes {
			t.Errorf("Files() has %s of %d bytes; on disk: %v, %v", f.Path, f.Bytes, st, err)
		}
		if f.Kind != KindDictionary {
			rows[f.Kind] += f.Rows
		}
	}
	want := map[string]int64{
		KindBlocks: int64(len(ds.Blocks) + len(ds.ColdBlocks)), KindTxs: int64(len(ds.Txs)),
		KindFrames: int64(len(ds.Frames)), KindEvents: int64(len(ds.Events)), KindCodes: int64(len(ds.Codes)),
	}
	if len(ds.ColdBlocks) > 0 {
		want[KindTransfers] = int64(len(ds.Transfers))
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("Files() rows by kind = %v, want %v", rows, want)
	}
}

// TestResumeIsDeterministic writes each export twice: in one run, and in
// runs that crash mid-part (the sink dropped without Close, leaving
// temporary files, a finished but unlisted part file and a dictionary
// ahead of the manifest, as a crash between renames could) and resume
// from Next. Every file must be byte for byte the same.
func TestResumeIsDeterministic(t *testing.T) {
	for _, chain := range []string{ChainHot, ChainCold} {
		tc := newTestChain(chain, 30, 6, 2)
		for _, f := range formats {
			t.Run(chain+"/"+f.format+"/"+f.compress, func(t *testing.T) {
				root := t.TempDir()
				oneGo := testOptions(filepath.Join(root, "one"), chain, f.format, f.compress, 30)
				writeAll(t, oneGo, tc.chunks(1, 30, 3))

				o := oneGo
				o.Dir = filepath.Join(root, "crashed")
				crash(t, o, tc, 7)  // part 0 finished, part 1 open
				crash(t, o, tc, 12) // again from where the first left
				s := resumeFrom(t, o, tc, 30)
				if err := s.Close(); err != nil {
					t.Fatalf("Close() = %v", err)
				}
				exporttest.SameFiles(t, oneGo.Dir, o.Dir)
			})
		}
	}
}

// crash opens the export, writes chunks up to at least height stop,
// until a part is open that added a function to the dictionary, and
// drops the sink without closing it, as a killed process would; then it
// leaves the litter of a crash while finishing a part.
func crash(t *testing.T, o Options, tc *testChain, stop uint64) {
	t.Helper()
	s, err := OpenSink(o)
	if err != nil {
		t.Fatalf("OpenSink = %v", err)
	}
	for h := s.Next(); ; h += o.ChunkBlocks {
		if h+o.ChunkBlocks > o.To {
			t.Fatalf("crash after %d: no open part with a new function before To", stop)
		}
		if err := s.Write(tc.chunk(h, h+o.ChunkBlocks-1)); err != nil {
			t.Fatalf("Write(%d) = %v", h, err)
		}
		if nf, _ := s.m.dictSizes(); s.Next() > stop && s.part != nil && len(s.d.functions.values) > nf {
			break
		}
	}
	// A part file renamed but not yet listed, and a dictionary written
	// ahead of the manifest.
	stray := o.path(o.partName(KindTxs, len(s.m.Parts)))
	if err := os.WriteFile(stray, []byte("half a part"), 0o644); err != nil {
		t.Fatal(err)
	}
	ahead := append(s.d.functions.csv(), "9999,never\n"...)
	if err := os.WriteFile(o.path(FunctionsFile), ahead, 0o644); err != nil {
		t.Fatal(err)
	}
}

// resumeFrom reopens the export and writes the rest up to height to.
func resumeFrom(t *testing.T, o Options, tc *testChain, to uint64) *Sink {
	t.Helper()
	s, err := OpenSink(o)
	if err != nil {
		t.Fatalf("OpenSink (resume) = %v", err)
	}
	m := s.Manifest()
	if nf, _ := m.dictSizes(); len(s.d.functions.values) != nf {
		t.Errorf("resumed with %d functions, the manifest's last part has %d", len(s.d.functions.values), nf)
	}
	if (s.Next()-o.From)%o.ChunkBlocks != 0 {
		t.Errorf("Next() = %d, not at a chunk boundary", s.Next())
	}
	for h := s.Next(); h <= to; h += o.ChunkBlocks {
		if err := s.Write(tc.chunk(h, min(h+o.ChunkBlocks-1, o.To))); err != nil {
			t.Fatalf("Write(%d) = %v", h, err)
		}
	}
	return s
}

// TestChunkingDoesNotMatter writes the same chain in chunks of the
// export's size and in one chunk: the files must be the same.
func TestChunkingDoesNotMatter(t *testing.T) {
	tc := newTestChain(ChainHot, 14, 6, 3)
	for _, f := range formats {
		t.Run(f.format+"/"+f.compress, func(t *testing.T) {
			a := testOptions(filepath.Join(t.TempDir(), "a"), ChainHot, f.format, f.compress, 14)
			b := a
			b.Dir = filepath.Join(filepath.Dir(a.Dir), "b")
			writeAll(t, a, tc.chunks(1, 14, 3))
			writeAll(t, b, []*Chunk{tc.chunk(1, 14)})
			exporttest.SameFiles(t, a.Dir, b.Dir)
		})
	}
}

// TestResumeChecksOptions refuses to resume with other options, naming
// the option; Node may differ.
func TestResumeChecksOptions(t *testing.T) {
	tc := newTestChain(ChainHot, 6, 3, 4)
	o := testOptions(t.TempDir(), ChainHot, FormatCSV, CompressZstd, 6)
	s, err := OpenSink(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(tc.chunk(1, 3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	tests := []struct {
		name   string
		change func(*Options)
		want   string // in the error; "" for none
	}{
		{"format", func(o *Options) { o.Format = FormatParquet }, "--format"},
		{"compress", func(o *Options) { o.Compress = CompressGzip }, "--compress"},
		{"compress default", func(o *Options) { o.Compress = "" }, ""},
		{"chain", func(o *Options) { o.Chain = ChainCold }, "--chain"},
		{"from", func(o *Options) { o.From = 2 }, "--from"},
		{"to", func(o *Options) { o.To = 9 }, "--to"},
		{"chunk blocks", func(o *Options) { o.ChunkBlocks = 4 }, "chunk blocks"},
		{"part txs", func(o *Options) { o.PartTxs = 1 }, "part txs"},
		{"chain id", func(o *Options) { o.ChainID = "other" }, "chain id"},
		{"node", func(o *Options) { o.Node = "http://elsewhere" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := o
			tt.change(&p)
			s, err := OpenSink(p)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("OpenSink(%+v) = %v, want no error", p, err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, ErrOptionsDiffer) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenSink(%+v) = %v, want %v naming %q", p, err, ErrOptionsDiffer, tt.want)
			}
		})
	}
}

// TestComplete: once every height is written, Next is past To, the
// manifest says complete, a new sink over the export writes nothing, and
// Close may be called twice.
func TestComplete(t *testing.T) {
	tc := newTestChain(ChainCold, 5, 3, 5)
	o := testOptions(t.TempDir(), ChainCold, FormatParquet, CompressZstd, 5)
	s := writeAll(t, o, tc.chunks(1, 5, 3))
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if err := s.Write(tc.chunk(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want %v", err, ErrClosed)
	}
	before := dirBytes(t, o.Dir)
	s, err := OpenSink(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Next() != 6 {
		t.Errorf("Next() of a complete export = %d, want 6", s.Next())
	}
	if err := s.Write(&Chunk{From: 6, To: 6}); !errors.Is(err, ErrChunk) {
		t.Errorf("Write past To = %v, want %v", err, ErrChunk)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	m, err := ReadManifest(o.Dir)
	if err != nil || !m.Complete || m.Next() != 6 {
		t.Fatalf("ReadManifest = %+v, %v, want complete up to 5", m, err)
	}
	if after := dirBytes(t, o.Dir); !reflect.DeepEqual(after, before) {
		t.Errorf("reopening a complete export changed its files")
	}
}

func dirBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestCloseDropsOpenPart: Close before To deletes the open part's
// temporary files and keeps the manifest as of the last finished part.
func TestCloseDropsOpenPart(t *testing.T) {
	tc := newTestChain(ChainHot, 30, 6, 6)
	o := testOptions(t.TempDir(), ChainHot, FormatCSV, CompressGzip, 30)
	o.PartTxs = 1000 // one part: never finished before To
	s, err := OpenSink(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tc.chunks(1, 9, 3) {
		if err := s.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if s.Next() != 10 {
		t.Errorf("Next() = %d, want 10", s.Next())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Next() != 1 {
		t.Errorf("Next() after Close = %d, want 1: the open part is dropped", s.Next())
	}
	for name := range dirBytes(t, o.Dir) {
		if strings.HasSuffix(name, tmpSuffix) || partFileName.MatchString(name) {
			t.Errorf("after Close: %s is left", name)
		}
	}
	s, err = OpenSink(o)
	if err != nil || s.Next() != 1 {
		t.Fatalf("OpenSink after Close = Next %d, %v, want 1", s.Next(), err)
	}
	s.Close()
}

// TestBadChunk: a chunk that does not fit is refused and the sink goes
// on; an I/O error leaves the sink of no use but to Close.
func TestBadChunk(t *testing.T) {
	tc := newTestChain(ChainHot, 9, 4, 7)
	o := testOptions(t.TempDir(), ChainHot, FormatCSV, CompressNone, 9)
	s, err := OpenSink(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	otherChain := *tc.chunk(1, 3)
	otherChain.Hot = slices.Clone(otherChain.Hot)
	otherChain.Hot[1].ChainID = "other"
	misplaced := *tc.chunk(1, 3)
	misplaced.Hot = slices.Clone(misplaced.Hot)
	misplaced.Hot[2].Txs = slices.Clone(misplaced.Hot[2].Txs)
	misplaced.Hot[2].Txs = append(misplaced.Hot[2].Txs, misplaced.Hot[2].Txs...)
	for _, c := range []*Chunk{
		tc.chunk(2, 4),                               // not at Next
		{From: 1, To: 3, Hot: tc.hot[0:2]},           // a block short
		{From: 1, To: 3, Cold: make([]ColdBlock, 3)}, // the other chain
		&otherChain,                          // another chain id
		&misplaced,                           // transactions out of place
		{From: 1, To: 10, Hot: tc.hot[0:10]}, // past To
	} {
		if err := s.Write(c); !errors.Is(err, ErrChunk) {
			t.Errorf("Write(%d to %d) = %v, want %v", c.From, c.To, err, ErrChunk)
		}
	}
	if err := s.Write(tc.chunk(1, 3)); err != nil {
		t.Fatalf("Write after refused chunks = %v", err)
	}
	// The directory goes away: finishing a part fails.
	if err := os.RemoveAll(o.Dir); err != nil {
		t.Fatal(err)
	}
	for h := uint64(4); h <= 9 && err == nil; h += 3 {
		err = s.Write(tc.chunk(h, h+2))
	}
	if err == nil {
		t.Fatal("Write with the directory gone = nil, want an error")
	}
	if err := s.Write(tc.chunk(s.Next(), s.Next())); err == nil {
		t.Error("Write after a failed Write = nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after a failed Write = %v, want nil", err)
	}
}

// TestOptionsValidate lists options an export refuses.
func TestOptionsValidate(t *testing.T) {
	ok := Options{Dir: "d", From: 1, To: 2, ChunkBlocks: 1}
	tests := []struct {
		name   string
		change func(*Options)
		valid  bool
	}{
		{"defaults", func(*Options) {}, true},
		{"no dir", func(o *Options) { o.Dir = "" }, false},
		{"chain", func(o *Options) { o.Chain = "warm" }, false},
		{"format", func(o *Options) { o.Format = "json" }, false},
		{"compress", func(o *Options) { o.Compress = "lz4" }, false},
		{"to 0", func(o *Options) { o.From, o.To = 0, 0 }, false},
		{"from past to", func(o *Options) { o.From = 3 }, false},
		{"chunk blocks", func(o *Options) { o.ChunkBlocks = 0 }, false},
		{"part txs", func(o *Options) { o.PartTxs = -1 }, false},
		{"from 0", func(o *Options) { o.From = 0 }, true},
	}
	for _, tt := range tests {
		o := ok
		tt.change(&o)
		if err := o.Validate(); (err == nil) != tt.valid || err != nil && !errors.Is(err, ErrOptions) {
			t.Errorf("%s: Validate(%+v) = %v, want valid %v", tt.name, o, err, tt.valid)
		}
	}
}

// TestFileNames checks the names of a part's files and of the others.
func TestFileNames(t *testing.T) {
	tc := newTestChain(ChainCold, 3, 2, 8)
	for _, f := range formats {
		o := testOptions(t.TempDir(), ChainCold, f.format, f.compress, 3)
		writeAll(t, o, tc.chunks(1, 3, 3))
		var got []string
		for name := range dirBytes(t, o.Dir) {
			got = append(got, name)
		}
		slices.Sort(got)
		ext := Ext(f.format, f.compress)
		want := []string{"blocks-000000." + ext, CodesFile, ContractsFile, FunctionsFile, "events-000000." + ext,
			"frames-000000." + ext, ManifestFile, "transfers-000000." + ext, "txs-000000." + ext}
		if !slices.Equal(got, want) {
			t.Errorf("%s/%s: files %v, want %v", f.format, f.compress, got, want)
		}
	}
}

// TestReadDatasetNoExport: a directory without a manifest is no export.
func TestReadDatasetNoExport(t *testing.T) {
	dir := t.TempDir()
	if m, err := ReadManifest(dir); m != nil || err != nil {
		t.Errorf("ReadManifest(empty) = %v, %v, want nil, nil", m, err)
	}
	if _, err := ReadDataset(dir); !errors.Is(err, ErrNoExport) {
		t.Errorf("ReadDataset(empty) = %v, want %v", err, ErrNoExport)
	}
}

// TestSizes reports what each format takes per 1,000 transactions on a
// chain like the benchmark's (mostly token transfers, some traced VM
// calls), and checks that compression pays.
func TestSizes(t *testing.T) {
	tc := newTestChain(ChainHot, 200, 40, 9)
	sizes := map[string]float64{}
	for _, f := range formats {
		o := testOptions(t.TempDir(), ChainHot, f.format, f.compress, 200)
		o.ChunkBlocks, o.PartTxs = 50, 100_000
		s := writeAll(t, o, tc.chunks(1, 200, 50))
		m := s.Manifest()
		name := f.format + "/" + f.compress
		sizes[name] = m.BytesPer1000Txs()
		t.Logf("%-16s %8.0f bytes per 1,000 txs (%d txs): %v", name, sizes[name], m.Txs, m.Bytes())
	}
	for _, f := range []string{FormatCSV, FormatParquet} {
		if sizes[f+"/zstd"] >= sizes[f+"/none"] || sizes[f+"/gzip"] >= sizes[f+"/none"] {
			t.Errorf("%s: compressed sizes %v not below uncompressed", f, sizes)
		}
	}
}
