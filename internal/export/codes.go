package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dualchain/dualchain/ledger"
)

// Names of the files beside the parts.
const (
	CodesFile     = "codes.csv"
	FunctionsFile = "dict-functions.csv"
	ContractsFile = "dict-contracts.csv"
)

// Kinds of codes.csv: the column each decodes.
const (
	CodeStatus     = "status"      // txs.status: ledger.Status
	CodePath       = "path"        // txs.path: ledger.Path
	CodeBridgeKind = "bridge_kind" // transfers.kind: ledger.BridgeKind
)

// CodeRow is a row of codes.csv: what a number of a coded column means.
type CodeRow struct {
	Kind string
	Code uint16
	Name string
}

// Codes lists every status, path and bridge kind the ledger names, in
// kind order and then by number. The ledger's String methods are the
// source, so a code added there is listed without a change here.
func Codes() []CodeRow {
	var rows []CodeRow
	add := func(kind string, code uint16, name, fallback string) {
		if !strings.HasPrefix(name, fallback+"(") {
			rows = append(rows, CodeRow{kind, code, name})
		}
	}
	for c := range uint16(256) {
		add(CodeStatus, c, ledger.Status(c).String(), "status")
	}
	for c := range uint16(256) {
		add(CodePath, c, ledger.Path(c).String(), "path")
	}
	for c := range uint16(256) {
		add(CodeBridgeKind, c, ledger.BridgeKind(c).String(), "kind")
	}
	return rows
}

// codesCSV is codes.csv's content.
func codesCSV() []byte {
	recs := [][]string{{"kind", "code", "name"}}
	for _, r := range Codes() {
		recs = append(recs, []string{r.Kind, strconv.FormatUint(uint64(r.Code), 10), r.Name})
	}
	return csvBytes(recs)
}

// readCodes reads codes.csv.
func readCodes(path string) ([]CodeRow, error) {
	recs, err := readSmallCSV(path, "kind", "code", "name")
	if err != nil {
		return nil, err
	}
	rows := make([]CodeRow, len(recs))
	for i, r := range recs {
		c, err := strconv.ParseUint(r[1], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, path, i+2, err)
		}
		rows[i] = CodeRow{r[0], uint16(c), r[2]}
	}
	return rows, nil
}

// dict gives repeated strings small codes: 0 for the first value seen,
// 1 for the next new one, and so on. Values are seen in chain order, so
// the codes depend only on the chain.
type dict struct {
	file   string // the file's name in the export's directory
	codes  map[string]uint32
	values []string
}

func newDict(file string) *dict {
	return &dict{file: file, codes: make(map[string]uint32)}
}

// code returns v's code, giving it the next one if it is new.
func (d *dict) code(v string) uint32 {
	c, ok := d.codes[v]
	if !ok {
		c = uint32(len(d.values))
		d.codes[v] = c
		d.values = append(d.values, v)
	}
	return c
}

// truncate forgets every value but the first n.
func (d *dict) truncate(n int) {
	for _, v := range d.values[n:] {
		delete(d.codes, v)
	}
	d.values = d.values[:n]
}

// csv is the dictionary's file content.
func (d *dict) csv() []byte {
	recs := make([][]string, 0, 1+len(d.values))
	recs = append(recs, []string{"code", "value"})
	for c, v := range d.values {
		recs = append(recs, []string{strconv.Itoa(c), v})
	}
	return csvBytes(recs)
}

// readDict reads the dictionary file at path, keeping its first n values;
// it must hold at least n.
func readDict(path string, n int) ([]string, error) {
	recs, err := readSmallCSV(path, "code", "value")
	if err != nil {
		return nil, err
	}
	if len(recs) < n {
		return nil, fmt.Errorf("%w: %s has %d values, the manifest counts %d", ErrCorrupt, path, len(recs), n)
	}
	values := make([]string, n)
	for i, r := range recs[:n] {
		if r[0] != strconv.Itoa(i) {
			return nil, fmt.Errorf("%w: %s line %d: code %q, want %d", ErrCorrupt, path, i+2, r[0], i)
		}
		values[i] = r[1]
	}
	return values, nil
}

// loadDict restores a dictionary from its file in dir, as of n values.
func loadDict(dir, file string, n int) (*dict, error) {
	d := newDict(file)
	if n == 0 {
		return d, nil
	}
	values, err := readDict(filepath.Join(dir, file), n)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		d.code(v)
	}
	if len(d.values) != n {
		return nil, fmt.Errorf("%w: %s repeats a value", ErrCorrupt, file)
	}
	return d, nil
}

// csvBytes encodes records as CSV.
func csvBytes(recs [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(recs) // a bytes.Buffer does not fail
	return b.Bytes()
}

// readSmallCSV reads a whole uncompressed CSV file whose header is
// header, returning the records after it.
func readSmallCSV(path string, header ...string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	first, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: %s is empty", ErrCorrupt, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	if err := checkHeader(path, first, header); err != nil {
		return nil, err
	}
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return recs, nil
}

// checkHeader reports a CSV header that is not want.
func checkHeader(path string, got, want []string) error {
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return fmt.Errorf("%w: %s: header %q, want %q", ErrCorrupt, path, strings.Join(got, ","), strings.Join(want, ","))
	}
	return nil
}
