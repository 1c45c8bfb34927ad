package export

import (
	"fmt"
	"path/filepath"
)

// Dataset is an export read back: the rows of every finished part, in
// height order, with the dictionaries and codes that decode them.
type Dataset struct {
	Manifest  *Manifest
	Codes     []CodeRow
	Functions []string // by code: dict-functions.csv
	Contracts []string // by code: dict-contracts.csv, hex addresses

	Blocks     []HotBlockRow  // a hot chain's
	ColdBlocks []ColdBlockRow // a cold chain's
	Txs        []TxRow
	Frames     []FrameRow
	Events     []EventRow
	Transfers  []TransferRow // a cold chain's
}

// ReadDataset reads back every finished file of the export in dir, in
// whatever format and compression it was written. An unfinished export
// reads as far as its last finished part.
func ReadDataset(dir string) (*Dataset, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: %s has no %s", ErrNoExport, dir, ManifestFile)
	}
	d := &Dataset{Manifest: m}
	if d.Codes, err = readCodes(filepath.Join(dir, CodesFile)); err != nil {
		return nil, err
	}
	nf, nc := m.dictSizes()
	if d.Functions, err = readDictFile(dir, FunctionsFile, nf); err != nil {
		return nil, err
	}
	if d.Contracts, err = readDictFile(dir, ContractsFile, nc); err != nil {
		return nil, err
	}
	for _, p := range m.Parts {
		for _, f := range p.Files {
			if err := d.read(dir, f); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// readDictFile reads a dictionary's first n values; none when n is 0.
func readDictFile(dir, file string, n int) ([]string, error) {
	if n == 0 {
		return []string{}, nil
	}
	return readDict(filepath.Join(dir, file), n)
}

// read appends a part file's rows.
func (d *Dataset) read(dir string, f PartFile) error {
	o := &d.Manifest.Options
	path := filepath.Join(dir, f.Name)
	var n int
	var err error
	switch {
	case f.Kind == KindBlocks && o.Chain == ChainCold:
		n, err = appendRows(&d.ColdBlocks, path, o)
	case f.Kind == KindBlocks:
		n, err = appendRows(&d.Blocks, path, o)
	case f.Kind == KindTxs:
		n, err = appendRows(&d.Txs, path, o)
	case f.Kind == KindFrames:
		n, err = appendRows(&d.Frames, path, o)
	case f.Kind == KindEvents:
		n, err = appendRows(&d.Events, path, o)
	case f.Kind == KindTransfers:
		n, err = appendRows(&d.Transfers, path, o)
	default:
		return fmt.Errorf("%w: %s: unknown kind %q", ErrCorrupt, f.Name, f.Kind)
	}
	if err == nil && int64(n) != f.Rows {
		err = fmt.Errorf("%w: %s has %d rows, the manifest says %d", ErrCorrupt, f.Name, n, f.Rows)
	}
	return err
}

// appendRows appends the rows of the file at path to dst.
func appendRows[T any](dst *[]T, path string, o *Options) (int, error) {
	rows, err := readFile[T](path, o.Format, o.Compress)
	*dst = append(*dst, rows...)
	return len(rows), err
}
