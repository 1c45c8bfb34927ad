package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Suffix names the temporary file Write writes before the rename; a
// PATH.tmp left by a crash can be removed.
const Suffix = ".tmp"

// Write makes path hold data with permissions perm, or leaves it as it
// was (and no temporary file) when it fails.
func Write(path string, data []byte, perm fs.FileMode) error {
	tmp := path + Suffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
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
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes the renames and new names in dir durable.
func SyncDir(dir string) error {
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
