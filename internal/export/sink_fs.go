package export

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// tmpSuffix marks a file being written: a part file until its part is
// finished, a manifest or dictionary until it replaces the old one.
const tmpSuffix = ".tmp"

// writeFileAtomic replaces dir/name with data: written to a temporary
// file, synced, renamed over the old one, and the directory synced.
func writeFileAtomic(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path+tmpSuffix, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+tmpSuffix, path)
	}
	if err != nil {
		_ = os.Remove(path + tmpSuffix)
		return err
	}
	return syncDir(dir)
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
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
