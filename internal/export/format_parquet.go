package export

import (
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet writer settings. They are fixed, with the writer's name, so
// that the same rows always make the same file.
const (
	// ParquetRowGroupRows is the rows of a row group (the last of a file
	// has fewer): about 128 Ki rows, the size DuckDB's readers like.
	ParquetRowGroupRows = 128 * 1024
	// parquetBatch is how many rows the encoder hands the writer at a
	// time. The writer cuts pages only between its internal batches of
	// 64 rows, so handing it rows in multiples of 64 makes the pages
	// depend on the rows alone, not on how the sink's writes were cut.
	parquetBatch = 1024
	// parquetCreatedBy is the created_by of every file's footer.
	parquetCreatedBy = "dualchain export"
)

var parquetGzip = &gzip.Codec{Level: gzip.DefaultCompression}

// zstdCodec is Parquet's zstd codec with the options of the CSV files'
// compressor (zstdOptions). parquet-go's own codec leaves literals
// without entropy coding when a page has no repeats, which is the
// common case of a page of hex hashes: half the size it could be.
type zstdCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

var parquetZstd = sync.OnceValue(func() *zstdCodec {
	enc, err := zstd.NewWriter(nil, append(zstdOptions(), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))...)
	if err != nil {
		panic(err) // the options are constants
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	return &zstdCodec{enc: enc, dec: dec}
})

func (*zstdCodec) String() string                            { return "ZSTD" }
func (*zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	return c.enc.EncodeAll(src, dst[:0]), nil
}

func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) { return c.dec.DecodeAll(src, dst[:0]) }

// parquetCodec is the column codec a compression names.
func parquetCodec(name string) (compress.Codec, error) {
	switch name {
	case CompressNone:
		return &parquet.Uncompressed, nil
	case CompressGzip:
		return parquetGzip, nil
	case CompressZstd:
		return parquetZstd(), nil
	}
	return nil, fmt.Errorf("%w: compression %q", ErrOptions, name)
}

// parquetEncoder writes rows as one Parquet file.
type parquetEncoder[T any] struct {
	w   *parquet.GenericWriter[T]
	buf []T
}

func newParquetEncoder[T any](w io.Writer, compress string) (*parquetEncoder[T], error) {
	codec, err := parquetCodec(compress)
	if err != nil {
		return nil, err
	}
	pw := parquet.NewGenericWriter[T](w,
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(ParquetRowGroupRows),
		&parquet.WriterConfig{CreatedBy: parquetCreatedBy},
	)
	return &parquetEncoder[T]{w: pw}, nil
}

func (e *parquetEncoder[T]) encode(rows []T) error {
	e.buf = append(e.buf, rows...)
	n := len(e.buf) / parquetBatch * parquetBatch
	if n == 0 {
		return nil
	}
	if _, err := e.w.Write(e.buf[:n]); err != nil {
		return err
	}
	e.buf = slices.Delete(e.buf, 0, n)
	return nil
}

func (e *parquetEncoder[T]) close() error {
	if len(e.buf) > 0 {
		if _, err := e.w.Write(e.buf); err != nil {
			return err
		}
		e.buf = e.buf[:0]
	}
	return e.w.Close()
}

// readParquet reads a Parquet file of rows of type T, whose columns must
// be T's.
func readParquet[T any](r io.ReaderAt, size int64) ([]T, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, err
	}
	got, want := f.Schema().Columns(), parquet.SchemaOf(new(T)).Columns()
	if !slices.EqualFunc(got, want, slices.Equal) {
		return nil, fmt.Errorf("columns %v, want %v", got, want)
	}
	rows := make([]T, f.NumRows())
	rd := parquet.NewGenericReader[T](f)
	defer rd.Close()
	n, err := rd.Read(rows)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if int64(n) != f.NumRows() {
		return nil, fmt.Errorf("read %d rows of %d", n, f.NumRows())
	}
	return rows, nil
}
