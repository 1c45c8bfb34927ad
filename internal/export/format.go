package export

import (
	"fmt"
	"io"
	"os"
)

// Formats.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// encoder writes rows of one type into one file.
type encoder[T any] interface {
	encode(rows []T) error
	// close writes what the encoder holds and the file's end: the
	// compressor's trailer, Parquet's footer. It does not sync the file.
	close() error
}

// newEncoder returns the encoder of the format and compression named.
func newEncoder[T any](w io.Writer, format, compress string) (encoder[T], error) {
	switch format {
	case FormatCSV:
		return newCSVEncoder[T](w, compress)
	case FormatParquet:
		return newParquetEncoder[T](w, compress)
	}
	return nil, fmt.Errorf("%w: format %q", ErrOptions, format)
}

// Ext is the file name extension of a format and compression: csv,
// csv.gz, csv.zst or parquet. Parquet compresses inside the file.
func Ext(format, compress string) string {
	if format == FormatParquet {
		return "parquet"
	}
	switch compress {
	case CompressGzip:
		return "csv.gz"
	case CompressZstd:
		return "csv.zst"
	}
	return "csv"
}

// readFile reads a whole file of rows of type T.
func readFile[T any](path, format, compress string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []T
	switch format {
	case FormatCSV:
		rows, err = readCSV[T](f, compress)
	case FormatParquet:
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			rows, err = readParquet[T](f, st.Size())
		}
	default:
		err = fmt.Errorf("%w: format %q", ErrOptions, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return rows, nil
}
