package export

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dualchain/dualchain/internal/atomicfile"
)

// tmpSuffix marks a file being written: a part file until its part is
// finished, a manifest or dictionary until it replaces the old one.
const tmpSuffix = atomicfile.Suffix

// writeFileAtomic replaces dir/name with data (atomicfile.Write).
func writeFileAtomic(dir, name string, data []byte) error {
	return atomicfile.Write(filepath.Join(dir, name), data, 0o644)
}

// partFileName matches the name of any part file an export writes.
var partFileName = regexp.MustCompile(`^(blocks|txs|frames|events|transfers)-[0-9]{6,}\.(csv|csv\.gz|csv\.zst|parquet)$`)

// ours reports whether name is a file an export writes, finished or not.
func ours(name string) bool {
	name = strings.TrimSuffix(name, tmpSuffix)
	switch name {
	case ManifestFile, CodesFile, FunctionsFile, ContractsFile:
		return true
	}
	return partFileName.MatchString(name)
}

// removeUnlisted deletes from dir every file an export writes that m does
// not list as finished: temporary files, and the parts of a run that
// stopped after renaming a part's files but before listing them. Other
// files are left alone.
func removeUnlisted(dir string, m *Manifest) error {
	listed := make(map[string]bool)
	for _, p := range m.Parts {
		for _, f := range p.Files {
			listed[f.Name] = true
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		stray := strings.HasSuffix(name, tmpSuffix) || partFileName.MatchString(name) && !listed[name]
		if e.Type().IsRegular() && ours(name) && stray {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
