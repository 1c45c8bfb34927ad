// Package archtest machine-checks dualchain's package layout and import
// rules (ARCHITECTURE §11, STYLE guideline 14). Its test lists the module's
// packages and fails, naming the package and the import, when:
//   - a package directory has no doc.go;
//   - a package imports what its doc.go forbids;
//   - a package breaks one of the rules ARCHITECTURE §11 states for the
//     whole module (ModuleRules), whatever the doc.go files say.
//
// A doc.go forbids imports with a line like the one at the end of this
// comment: module-relative package paths separated by commas, each matching
// that package and every package under it. A malformed line is an error, so
// a typo cannot switch a rule off.
//
// Imports are read from every non-test Go file of a package, including
// files that build constraints exclude from the default build (a wasip1
// contract, an invariants-tagged check), so the rules hold in every build.
//
// Invariant: Check is a pure function of a package list, so the checker's
// own tests feed it synthetic packages and a fixture module
// (testdata/fixture) and see it catch violations.
//
// Must not import: ledger, vm, contracts, hotchain, coldchain, bridge, consensus, node, api, client, cmd
package archtest
