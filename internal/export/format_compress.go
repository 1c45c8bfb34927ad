package export

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Compressions.
const (
	CompressNone = "none"
	CompressGzip = "gzip"
	CompressZstd = "zstd"
)

// compressWriter wraps w in the compressor named. Both compressors are
// set up so that the same bytes in give the same bytes out: gzip's header
// has no name and no time, zstd encodes on one goroutine at a fixed level.
// The caller never flushes mid-stream, so the output does not depend on
// how the writes were cut either.
func compressWriter(w io.Writer, compress string) (io.WriteCloser, error) {
	switch compress {
	case CompressNone:
		return nopCloser{w}, nil
	case CompressGzip:
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case CompressZstd:
		return zstd.NewWriter(w, zstdOptions()...)
	}
	return nil, fmt.Errorf("%w: compression %q", ErrOptions, compress)
}

// zstdOptions are the zstd encoder's settings: one goroutine, the
// default level, and entropy coding of literals even in a block without
// repeats (hex digits take half their bytes that way).
func zstdOptions() []zstd.EOption {
	return []zstd.EOption{
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithAllLitEntropyCompression(true),
	}
}

// decompressReader undoes compressWriter.
func decompressReader(r io.Reader, compress string) (io.ReadCloser, error) {
	switch compress {
	case CompressNone:
		return io.NopCloser(r), nil
	case CompressGzip:
		return gzip.NewReader(r)
	case CompressZstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("%w: compression %q", ErrOptions, compress)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
