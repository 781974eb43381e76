package harness

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"compactv4"
	"compactv4/internal/nn"
)

// Code versions of cached steps.
//
// A step's result depends on the code that computes it, so the cache key includes a hash of that
// code: the packages the step names in Step.Code and every package of the module they import,
// directly or not. An edit to any of those packages reruns the step; an edit elsewhere (another
// experiment, the report writer, a test) does not. A package's hash covers the Go tokens of its
// non-test .go files (comments and layout do not count), its assembly files, and the files its
// go:embed directives name. The hash of go.mod and go.sum (external modules), the Go toolchain,
// the architecture and the numerical kernels that run (nn.Kernels) are part of every key.
//
// The sources are those embedded in the binary (compactv4.Source): exactly the files it was
// compiled from, so a key can never describe other code than the code that runs.
type codeGraph struct {
	module string
	base   string // hash of go.mod, go.sum, toolchain, architecture and kernels
	pkgs   map[string]*codePkg
}

// codePkg is one package of the module.
type codePkg struct {
	hash    string
	imports []string // packages of the module this one imports
}

var suiteCode = sync.OnceValues(func() (*codeGraph, error) {
	return loadCodeGraph(compactv4.Source, platform())
})

// platform names what, besides the sources, decides the bits a step computes: the Go toolchain,
// the architecture and the kernels nn runs on this CPU.
func platform() string {
	return fmt.Sprintf("%s %s/%s kernels=%s", runtime.Version(), runtime.GOOS, runtime.GOARCH, nn.Kernels())
}

// loadCodeGraph reads every package of the module in fsys (its root holds go.mod).
func loadCodeGraph(fsys fs.FS, platform string) (*codeGraph, error) {
	mod, err := fs.ReadFile(fsys, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("code graph: %w", err)
	}
	sum, err := fs.ReadFile(fsys, "go.sum")
	if err != nil {
		return nil, fmt.Errorf("code graph: %w", err)
	}
	g := &codeGraph{module: modulePath(mod), pkgs: map[string]*codePkg{}}
	if g.module == "" {
		return nil, fmt.Errorf("code graph: go.mod has no module line")
	}
	g.base = hashStrings("base", string(mod), string(sum), platform)
	dirs := map[string][]string{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			dirs[path.Dir(p)] = append(dirs[path.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("code graph: %w", err)
	}
	for dir, files := range dirs {
		pkg, err := readCodePkg(fsys, g.module, dir, files)
		if err != nil {
			return nil, fmt.Errorf("code graph: %w", err)
		}
		if pkg != nil {
			g.pkgs[importPath(g.module, dir)] = pkg
		}
	}
	return g, nil
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return f[1]
		}
	}
	return ""
}

func importPath(module, dir string) string {
	if dir == "." {
		return module
	}
	return module + "/" + dir
}

// readCodePkg hashes the package in dir from its .go files (files lists every .go file of dir).
// It returns nil for a directory that holds only tests.
func readCodePkg(fsys fs.FS, module, dir string, files []string) (*codePkg, error) {
	slices.Sort(files)
	h := sha256.New()
	imports := map[string]bool{}
	var embeds []string
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		toks, imps, emb, err := goTokens(f, src)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "file %s %d\n", path.Base(f), len(toks))
		h.Write(toks)
		for _, imp := range imps {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				imports[imp] = true
			}
		}
		embeds = append(embeds, emb...)
		n++
	}
	if n == 0 {
		return nil, nil
	}
	// Assembly and the headers it includes.
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".s") || strings.HasSuffix(e.Name(), ".h")) {
			continue
		}
		if err := hashFile(h, fsys, path.Join(dir, e.Name())); err != nil {
			return nil, err
		}
	}
	// Files the package embeds.
	slices.Sort(embeds)
	for _, pat := range slices.Compact(embeds) {
		ms, err := fs.Glob(fsys, path.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("%s: go:embed %s: %w", dir, pat, err)
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("%s: go:embed %s matches no embedded source file (add it to compactv4.Source)", dir, pat)
		}
		for _, m := range ms {
			st, err := fs.Stat(fsys, m)
			if err != nil {
				return nil, err
			}
			if st.IsDir() {
				// A whole tree: compactv4.Source, the suite's own sources, each package of which
				// is hashed on its own.
				continue
			}
			if err := hashFile(h, fsys, m); err != nil {
				return nil, err
			}
		}
	}
	p := &codePkg{hash: hex.EncodeToString(h.Sum(nil))}
	for imp := range imports {
		p.imports = append(p.imports, imp)
	}
	slices.Sort(p.imports)
	return p, nil
}

func hashFile(h interface{ Write([]byte) (int, error) }, fsys fs.FS, name string) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %s %d\n", path.Base(name), len(b))
	_, err = h.Write(b)
	return err
}

// goTokens returns the tokens of a Go file without comments and without the semicolons that
// line ends insert, one per line, its imports, and the patterns of its go:embed directives. A
// file that does not parse is an error.
func goTokens(name string, src []byte) (toks []byte, imports, embeds []string, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: import %s: %w", name, imp.Path.Value, err)
		}
		imports = append(imports, p)
	}
	var s scanner.Scanner
	var serr error
	s.Init(fset.AddFile(name, -1, len(src)), src, func(pos token.Position, msg string) {
		if serr == nil {
			serr = fmt.Errorf("%s: %s", pos, msg)
		}
	}, scanner.ScanComments)
	var b bytes.Buffer
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.COMMENT {
			if rest, ok := strings.CutPrefix(lit, "//go:embed "); ok {
				embeds = append(embeds, strings.Fields(rest)...)
			}
			continue
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted at a line end: layout, not code
		}
		b.WriteString(tok.String())
		if lit != "" && tok != token.SEMICOLON {
			b.WriteByte(' ')
			b.WriteString(lit)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), imports, embeds, serr
}

// closure returns the hashes of the named packages and of every package of the module they
// import, by import path. No package named means every package of the module.
func (g *codeGraph) closure(roots []string) (map[string]string, error) {
	out := map[string]string{}
	if len(roots) == 0 {
		for p, pkg := range g.pkgs {
			out[p] = pkg.hash
		}
		return out, nil
	}
	var visit func(p string) error
	visit = func(p string) error {
		if _, done := out[p]; done {
			return nil
		}
		pkg, ok := g.pkgs[p]
		if !ok {
			return fmt.Errorf("package %s is not a package of module %s", p, g.module)
		}
		out[p] = pkg.hash
		for _, imp := range pkg.imports {
			if err := visit(imp); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// version returns the code version of a step that names the packages roots: one hash over the
// base and every package of the closure.
func (g *codeGraph) version(roots []string) (string, map[string]string, error) {
	pkgs, err := g.closure(roots)
	if err != nil {
		return "", nil, err
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	slices.Sort(names)
	parts := []string{g.base}
	for _, p := range names {
		parts = append(parts, p+" "+pkgs[p])
	}
	return hashStrings(parts...), pkgs, nil
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
