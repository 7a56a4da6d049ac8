package main

import (
	"errors"
	"go/build"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/lockstep-sim/lockstep"

// archRow is one row of the README's architecture table.
type archRow struct {
	path       string   // "twin/wire" (the table writes `twin/wire/`)
	everything bool     // "may import: everything"
	entries    []string // the rest: project packages ("twin/wire"), "std", libraries by part of their module path ("h3-go")
}

// parseArchTable reads the table under "## Architecture" in readme.
func parseArchTable(t *testing.T, readme string) []archRow {
	t.Helper()
	_, sec, ok := strings.Cut(readme, "\n## Architecture\n")
	require.True(t, ok, "README has no ## Architecture section")
	sec, _, _ = strings.Cut(sec, "\n#") // up to the next heading
	rowRE := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| ([^|]+) \\|$")
	var rows []archRow
	for _, m := range rowRE.FindAllStringSubmatch(sec, -1) {
		r := archRow{path: strings.TrimSuffix(m[1], "/")}
		for _, tok := range strings.Split(m[2], ",") {
			tok = strings.TrimSuffix(strings.Trim(strings.TrimSpace(tok), "`"), "/")
			if tok == "everything" {
				r.everything = true
			} else {
				r.entries = append(r.entries, tok)
			}
		}
		rows = append(rows, r)
	}
	require.NotEmpty(t, rows, "no rows found in the architecture table")
	return rows
}

// projectImports lists every package of the module (relative path, "." for
// the root) with the project packages its non-test files import, as the go
// tool builds them here.
func projectImports(t *testing.T, root string) (map[string][]string, map[string][]string) {
	t.Helper()
	project, external := map[string][]string{}, map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		project[rel] = []string{}
		for _, imp := range pkg.Imports {
			if p, ok := strings.CutPrefix(imp, modulePath+"/"); ok {
				project[rel] = append(project[rel], p)
			} else if strings.Contains(strings.Split(imp, "/")[0], ".") {
				external[rel] = append(external[rel], imp)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return project, external
}

// rowOf is the row a package belongs to: the longest row path that is the
// package or one of its parents.
func rowOf(rows []archRow, pkg string) int {
	best := -1
	for i, r := range rows {
		if (pkg == r.path || strings.HasPrefix(pkg, r.path+"/")) && (best < 0 || len(r.path) > len(rows[best].path)) {
			best = i
		}
	}
	return best
}

// archProblems compares the table with the packages: every package has a
// row; every project package a row's code imports from outside the row is
// listed, and every listed one is imported; listed libraries are modules
// of go.mod and imported by the row. "everything" lifts the project checks.
func archProblems(rows []archRow, project, external map[string][]string, modules []string) []string {
	var problems []string
	imports := make([]map[string]bool, len(rows))
	libs := make([]map[string]bool, len(rows))
	for i := range rows {
		imports[i], libs[i] = map[string]bool{}, map[string]bool{}
	}
	pkgs := make([]string, 0, len(project))
	for p := range project {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		i := rowOf(rows, p)
		if i < 0 {
			problems = append(problems, "package "+p+" has no row in the README's architecture table")
			continue
		}
		for _, imp := range project[p] {
			if rowOf(rows, imp) != i {
				imports[i][imp] = true
			}
		}
		for _, imp := range external[p] {
			libs[i][imp] = true
		}
	}
	for i, r := range rows {
		if _, ok := project[r.path]; !ok && !slices.ContainsFunc(pkgs, func(p string) bool { return strings.HasPrefix(p, r.path+"/") }) {
			problems = append(problems, "row "+r.path+"/ names no package of the module")
		}
		var listed []string
		for _, e := range r.entries {
			_, isPkg := project[e]
			switch {
			case isPkg:
				listed = append(listed, e)
				if !r.everything && !imports[i][e] {
					problems = append(problems, "row "+r.path+"/ lists "+e+", but its code does not import it")
				}
			case e == "std":
			case !slices.ContainsFunc(modules, func(m string) bool { return strings.Contains(m, e) }):
				problems = append(problems, "row "+r.path+"/ lists "+e+", which is neither a project package nor a module in go.mod")
			case !anyKeyContains(libs[i], e):
				problems = append(problems, "row "+r.path+"/ lists "+e+", but its code does not import it")
			}
		}
		if r.everything {
			continue
		}
		var unlisted []string
		for imp := range imports[i] {
			if !slices.Contains(listed, imp) {
				unlisted = append(unlisted, imp)
			}
		}
		sort.Strings(unlisted)
		for _, imp := range unlisted {
			problems = append(problems, "row "+r.path+"/ does not list "+imp+", which its code imports")
		}
	}
	return problems
}

// anyKeyContains: some import path in set contains part.
func anyKeyContains(set map[string]bool, part string) bool {
	for k := range set {
		if strings.Contains(k, part) {
			return true
		}
	}
	return false
}

// goModules lists the module paths go.mod requires.
func goModules(t *testing.T, gomod string) []string {
	t.Helper()
	var mods []string
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:require\s+)?([a-z0-9.\-]+\.[a-z]+/\S+) v\S+`).FindAllStringSubmatch(gomod, -1) {
		mods = append(mods, m[1])
	}
	require.NotEmpty(t, mods)
	return mods
}

// The README's architecture table says which project packages each part
// may import; it must be what the code does, both ways.
func TestArchitectureTable(t *testing.T) {
	rows := parseArchTable(t, readRepoFile(t, "README.md"))
	project, external := projectImports(t, "../..")
	require.Contains(t, project, "model")
	require.Contains(t, project, "cmd/lockstep")
	problems := archProblems(rows, project, external, goModules(t, readRepoFile(t, "go.mod")))
	if len(problems) > 0 {
		t.Errorf("the README's architecture table and the code disagree:\n%s", strings.Join(problems, "\n"))
	}
}

// The check catches each kind of drift: an import the table does not
// list, a listed package not imported, a package without a row, a row or
// entry that names nothing, a library not imported; and a new row is all a
// new package needs.
func TestArchitectureTableCatchesDrift(t *testing.T) {
	table := func(rows ...string) string {
		return "# x\n\n## Architecture\n\n| path | what | may import |\n|---|---|---|\n" + strings.Join(rows, "\n") + "\n\n## Next\n"
	}
	project := map[string][]string{
		"model": {}, "sim": {"model"}, "twin": {"model", "twin/wire"}, "twin/wire": {"model"},
		"internal/a": {"internal/b"}, "internal/b": {}, "cmd/lockstep": {"sim", "twin"},
	}
	external := map[string][]string{"model": {"github.com/uber/h3-go/v4"}}
	modules := []string{"github.com/uber/h3-go/v4", "github.com/stretchr/testify"}
	good := []string{
		"| `model/` | core | std, h3-go |",
		"| `sim/` | kernel | model |",
		"| `twin/` | twin | model, `twin/wire` |",
		"| `twin/wire/` | contract | model |",
		"| `internal/` | helpers | std |",
		"| `cmd/lockstep/` | command | everything |",
	}
	check := func(rows []string, project map[string][]string) []string {
		return archProblems(parseArchTable(t, table(rows...)), project, external, modules)
	}
	require.Empty(t, check(good, project))

	replace := func(i int, row string) []string {
		rows := slices.Clone(good)
		rows[i] = row
		return rows
	}
	for _, c := range []struct {
		name    string
		rows    []string
		project map[string][]string
		want    string
	}{
		{"import not listed", replace(1, "| `sim/` | kernel | std |"), project, "row sim/ does not list model, which its code imports"},
		{"listed, not imported", replace(3, "| `twin/wire/` | contract | model, sim |"), project, "row twin/wire/ lists sim, but its code does not import it"},
		{"subpackage folded into its parent's row", append(slices.Clone(good[:3]), good[4:]...), project, "row twin/ lists twin/wire, but its code does not import it"},
		{"not a package", replace(1, "| `sim/` | kernel | model, simm |"), project, "row sim/ lists simm, which is neither a project package nor a module in go.mod"},
		{"row without a package", append(slices.Clone(good), "| `sweep/` | grids | model |"), project, "row sweep/ names no package of the module"},
		{"library not in go.mod", replace(0, "| `model/` | core | std, h3go |"), project, "row model/ lists h3go, which is neither a project package nor a module in go.mod"},
		{"library not imported", replace(1, "| `sim/` | kernel | model, testify |"), project, "row sim/ lists testify, but its code does not import it"},
		{"package without a row", good, with(project, "sweep", "model"), "package sweep has no row in the README's architecture table"},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Contains(t, check(c.rows, c.project), c.want)
		})
	}
	// a new package needs its row and nothing else: cmd/lockstep may
	// import it under "everything"
	withSweep := with(with(project, "sweep", "model", "sim"), "cmd/lockstep", "sim", "twin", "sweep")
	assert.Empty(t, check(append(slices.Clone(good), "| `sweep/` | grids | model, sim |"), withSweep))
}

// with returns a copy of project where pkg imports imps.
func with(project map[string][]string, pkg string, imps ...string) map[string][]string {
	out := make(map[string][]string, len(project)+1)
	for k, v := range project {
		out[k] = v
	}
	out[pkg] = imps
	return out
}

func TestGoModules(t *testing.T) {
	mods := goModules(t, "module x\n\ngo 1.26\n\nrequire github.com/a/b v1.0.0\n\nrequire (\n\tgonum.org/v1/plot v0.17.0\n\tgolang.org/x/term v0.46.0 // indirect\n)\n")
	assert.Equal(t, []string{"github.com/a/b", "gonum.org/v1/plot", "golang.org/x/term"}, mods)
}
