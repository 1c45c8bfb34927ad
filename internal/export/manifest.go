package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ManifestVersion is the version of the files' layout a manifest
// describes. A reader refuses any other: a resumed export must not mix
// layouts.
const ManifestVersion = 1

// ManifestFile is the manifest's name in an export's directory.
const ManifestFile = "manifest.json"

// Manifest describes an export: what it was asked for and the parts it
// has finished. It is rewritten, atomically, each time a part is
// finished, and only then: a part it does not list is not there.
type Manifest struct {
	Version  int     `json:"version"`
	Options  Options `json:"options"`
	Parts    []Part  `json:"parts"`
	Txs      uint64  `json:"txs"`      // in the finished parts
	Complete bool    `json:"complete"` // every height From to To is in a finished part
}

// Part is a finished part: one file of each kind for a range of heights.
type Part struct {
	Number int        `json:"number"`
	From   uint64     `json:"from"`
	To     uint64     `json:"to"`
	Txs    uint64     `json:"txs"`
	Files  []PartFile `json:"files"`
	// Functions and Contracts are how many values the dictionaries held
	// once the part was finished. A resumed export keeps as many.
	Functions int `json:"functions"`
	Contracts int `json:"contracts"`
}

// PartFile is one file of a part.
type PartFile struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"` // in the export's directory
	Bytes int64  `json:"bytes"`
	Rows  int64  `json:"rows"`
}

// Next is the height the export continues at: From, or the height after
// the last finished part; To+1 once every height is in a finished part.
func (m *Manifest) Next() uint64 {
	if len(m.Parts) == 0 {
		return m.Options.From
	}
	return m.Parts[len(m.Parts)-1].To + 1
}

// dictSizes is how many values each dictionary held after the last
// finished part.
func (m *Manifest) dictSizes() (functions, contracts int) {
	if len(m.Parts) == 0 {
		return 0, 0
	}
	p := &m.Parts[len(m.Parts)-1]
	return p.Functions, p.Contracts
}

// Bytes sums the finished parts' file sizes by kind. The dictionaries
// and codes.csv, a few kilobytes per export, are not counted.
func (m *Manifest) Bytes() map[string]int64 {
	sizes := make(map[string]int64)
	for _, p := range m.Parts {
		for _, f := range p.Files {
			sizes[f.Kind] += f.Bytes
		}
	}
	return sizes
}

// BytesPer1000Txs is the finished parts' size for each 1,000
// transactions: every kind of file together. It is 0 for an export
// without transactions.
func (m *Manifest) BytesPer1000Txs() float64 {
	if m.Txs == 0 {
		return 0
	}
	var total int64
	for _, n := range m.Bytes() {
		total += n
	}
	return float64(total) * 1000 / float64(m.Txs)
}

// ReadManifest reads the manifest of the export in dir: nil, nil when dir
// holds none.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, ManifestFile, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("%w: %s is version %d, this build reads %d", ErrVersion, ManifestFile, m.Version, ManifestVersion)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, ManifestFile, err)
	}
	return &m, nil
}

// check reports a manifest whose parts do not follow one another.
func (m *Manifest) check() error {
	next := m.Options.From
	for i, p := range m.Parts {
		if p.Number != i || p.From != next || p.To < p.From || p.To > m.Options.To {
			return fmt.Errorf("part %d (number %d) holds heights %d to %d, want from %d", i, p.Number, p.From, p.To, next)
		}
		next = p.To + 1
	}
	if m.Complete != (next > m.Options.To) {
		return fmt.Errorf("complete is %v with parts up to height %d of %d", m.Complete, next-1, m.Options.To)
	}
	return nil
}

// write replaces the manifest in dir atomically.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, ManifestFile, append(b, '\n'))
}
