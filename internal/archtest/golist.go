package archtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The package list comes from `go list -find -json ./...` rather than
// golang.org/x/tools/go/packages: go list is what go/packages runs
// underneath, it needs no new dependency, and -find lists the packages
// without type-checking or resolving dependencies, so a half-written
// package elsewhere in the tree does not stop the check. Imports are then
// read with go/parser from every non-test file, including the files build
// constraints exclude from this platform's build (go list's Imports would
// only cover the default build).

// listedPackage is the part of go list's JSON output that List reads.
type listedPackage struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Module         *struct{ Path string }
}

// List returns the module path and the packages of the module that
// contains dir.
func List(ctx context.Context, dir string) (string, []Package, error) {
	gomod, err := goCmd(ctx, dir, "env", "GOMOD")
	if err != nil {
		return "", nil, err
	}
	gomod = bytes.TrimSpace(gomod)
	if len(gomod) == 0 || string(gomod) == os.DevNull {
		return "", nil, fmt.Errorf("archtest: %s is not inside a module", dir)
	}
	out, err := goCmd(ctx, filepath.Dir(string(gomod)), "list", "-e", "-find",
		"-json=ImportPath,Dir,GoFiles,CgoFiles,IgnoredGoFiles,Module", "./...")
	if err != nil {
		return "", nil, err
	}
	return decodeList(out)
}

func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("archtest: go %s: %w: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// decodeList turns go list's stream of JSON objects into Packages.
func decodeList(out []byte) (string, []Package, error) {
	var module string
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var lp listedPackage
		if err := dec.Decode(&lp); err != nil {
			return "", nil, fmt.Errorf("archtest: read go list output: %w", err)
		}
		if lp.Module == nil {
			return "", nil, fmt.Errorf("archtest: package %s is not in a module", lp.ImportPath)
		}
		module = lp.Module.Path
		p, err := readPackage(module, lp)
		if err != nil {
			return "", nil, err
		}
		if p != nil {
			pkgs = append(pkgs, *p)
		}
	}
	return module, pkgs, nil
}

// readPackage reads a package's doc.go and the imports of its non-test
// files; it returns nil for a directory with only test files.
func readPackage(module string, lp listedPackage) (*Package, error) {
	p := &Package{Path: strings.TrimPrefix(strings.TrimPrefix(lp.ImportPath, module), "/")}
	if p.Path == "" {
		p.Path = "."
	}
	var files []string
	for _, f := range slices.Concat(lp.GoFiles, lp.CgoFiles, lp.IgnoredGoFiles) {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	seen := make(map[string]bool)
	for _, f := range files {
		imps, err := fileImports(filepath.Join(lp.Dir, f))
		if err != nil {
			return nil, err
		}
		for _, imp := range imps {
			if !seen[imp] {
				seen[imp] = true
				p.Imports = append(p.Imports, imp)
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join(lp.Dir, "doc.go"))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("archtest: %w", err)
	}
	p.HasDoc = true
	if p.MustNotImport, err = ParseMustNotImport(doc); err != nil {
		return nil, fmt.Errorf("%s/doc.go: %w", p.Path, err)
	}
	return p, nil
}

// fileImports returns the import paths of one Go file.
func fileImports(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("archtest: %w", err)
	}
	var out []string
	for _, spec := range f.Imports {
		imp, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("archtest: %s: import %s: %w", path, spec.Path.Value, err)
		}
		out = append(out, imp)
	}
	return out, nil
}
