package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// csvCodec turns a row struct into a CSV record and back. The columns are
// the struct's fields in order, named by their parquet tags, so a CSV file
// and a Parquet file of the same rows have the same columns.
type csvCodec struct {
	names  []string
	fields []csvField
}

// csvField is one column: a field of a kind the rows use.
type csvField struct {
	index int
	kind  reflect.Kind // of the field, or of what it points to
	bits  int
	ptr   bool // a pointer: empty when nil
}

var csvCodecs sync.Map // reflect.Type → *csvCodec

// csvCodecOf returns the codec of row type T.
func csvCodecOf[T any]() *csvCodec {
	t := reflect.TypeFor[T]()
	if c, ok := csvCodecs.Load(t); ok {
		return c.(*csvCodec)
	}
	c, _ := csvCodecs.LoadOrStore(t, newCSVCodec(t))
	return c.(*csvCodec)
}

// newCSVCodec builds the codec of struct type t. Row types are ours: a
// field of a kind the codec does not handle is a programming error.
func newCSVCodec(t reflect.Type) *csvCodec {
	c := &csvCodec{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("parquet"), ",")
		f := csvField{index: i, kind: sf.Type.Kind()}
		if f.kind == reflect.Pointer {
			f.ptr, f.kind = true, sf.Type.Elem().Kind()
		}
		switch f.kind {
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Int64:
			f.bits = int(sf.Type.Size()) * 8
			if f.ptr {
				f.bits = int(sf.Type.Elem().Size()) * 8
			}
		case reflect.String:
		default:
			panic(fmt.Sprintf("export: row %v: field %s of kind %v", t, sf.Name, sf.Type.Kind()))
		}
		c.names = append(c.names, name)
		c.fields = append(c.fields, f)
	}
	return c
}

// record appends row's columns to rec.
func (c *csvCodec) record(row reflect.Value, rec []string) []string {
	for _, f := range c.fields {
		v := row.Field(f.index)
		if f.ptr {
			if v.IsNil() {
				rec = append(rec, "")
				continue
			}
			v = v.Elem()
		}
		switch f.kind {
		case reflect.String:
			rec = append(rec, v.String())
		case reflect.Int64:
			rec = append(rec, strconv.FormatInt(v.Int(), 10))
		default:
			rec = append(rec, strconv.FormatUint(v.Uint(), 10))
		}
	}
	return rec
}

// parse sets row's fields from rec.
func (c *csvCodec) parse(rec []string, row reflect.Value) error {
	for i, f := range c.fields {
		if err := f.parse(rec[i], row.Field(f.index)); err != nil {
			return fmt.Errorf("column %s: %w", c.names[i], err)
		}
	}
	return nil
}

func (f csvField) parse(s string, v reflect.Value) error {
	if f.ptr {
		if s == "" {
			v.SetZero()
			return nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch f.kind {
	case reflect.String:
		v.SetString(s)
	case reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	default:
		n, err := strconv.ParseUint(s, 10, f.bits)
		if err != nil {
			return err
		}
		v.SetUint(n)
	}
	return nil
}

// csvEncoder writes rows as CSV, header first, into a compressor.
type csvEncoder[T any] struct {
	codec *csvCodec
	z     io.WriteCloser
	w     *csv.Writer
	rec   []string
}

func newCSVEncoder[T any](w io.Writer, compress string) (*csvEncoder[T], error) {
	z, err := compressWriter(w, compress)
	if err != nil {
		return nil, err
	}
	e := &csvEncoder[T]{codec: csvCodecOf[T](), z: z, w: csv.NewWriter(z)}
	return e, e.w.Write(e.codec.names)
}

func (e *csvEncoder[T]) encode(rows []T) error {
	for i := range rows {
		e.rec = e.codec.record(reflect.ValueOf(&rows[i]).Elem(), e.rec[:0])
		if err := e.w.Write(e.rec); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvEncoder[T]) close() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return err
	}
	return e.z.Close()
}

// readCSV reads a CSV file of rows of type T from r, compressed as said.
func readCSV[T any](r io.Reader, compress string) ([]T, error) {
	z, err := decompressReader(r, compress)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	codec := csvCodecOf[T]()
	cr := csv.NewReader(z)
	cr.FieldsPerRecord = len(codec.names)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if strings.Join(header, ",") != strings.Join(codec.names, ",") {
		return nil, fmt.Errorf("header %q, want %q", strings.Join(header, ","), strings.Join(codec.names, ","))
	}
	return readCSVRows[T](cr, codec)
}

func readCSVRows[T any](cr *csv.Reader, codec *csvCodec) ([]T, error) {
	var rows []T
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		var row T
		if err := codec.parse(rec, reflect.ValueOf(&row).Elem()); err != nil {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
}
