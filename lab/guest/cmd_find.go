package guest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// findExpr is one node of find's expression.
type findExpr interface {
	eval(ctx context.Context, f *finder, e findEntry) bool
}

type findEntry struct {
	path string // as printed
	full string // guest path
	fi   fs.FileInfo
}

type finder struct {
	p          *proc
	now        time.Time
	maxDepth   int
	minDepth   int
	depthFirst bool
	failed     bool
}

type (
	findAnd  struct{ a, b findExpr }
	findOr   struct{ a, b findExpr }
	findNot  struct{ x findExpr }
	findTest func(f *finder, e findEntry) bool
	findExec struct{ argv []string }
)

func (x findAnd) eval(ctx context.Context, f *finder, e findEntry) bool {
	return x.a.eval(ctx, f, e) && x.b.eval(ctx, f, e)
}
func (x findOr) eval(ctx context.Context, f *finder, e findEntry) bool {
	return x.a.eval(ctx, f, e) || x.b.eval(ctx, f, e)
}
func (x findNot) eval(ctx context.Context, f *finder, e findEntry) bool {
	return !x.x.eval(ctx, f, e)
}
func (t findTest) eval(_ context.Context, f *finder, e findEntry) bool { return t(f, e) }

func (x findExec) eval(ctx context.Context, f *finder, e findEntry) bool {
	argv := make([]string, len(x.argv))
	for i, a := range x.argv {
		argv[i] = strings.ReplaceAll(a, "{}", e.path)
	}
	return f.p.run(ctx, argv) == nil
}

// findParser parses find's expression: tests, actions, !, -a, -o, ( ).
type findParser struct {
	args      []string
	pos       int
	f         *finder
	hasAction bool
}

func (fp *findParser) peek() string {
	if fp.pos < len(fp.args) {
		return fp.args[fp.pos]
	}
	return ""
}

func (fp *findParser) parseOr() (findExpr, error) {
	left, err := fp.parseAnd()
	if err != nil {
		return nil, err
	}
	for fp.peek() == "-o" || fp.peek() == "-or" {
		fp.pos++
		right, err := fp.parseAnd()
		if err != nil {
			return nil, err
		}
		left = findOr{left, right}
	}
	return left, nil
}

func (fp *findParser) parseAnd() (findExpr, error) {
	left, err := fp.parseUnary()
	if err != nil {
		return nil, err
	}
	for fp.pos < len(fp.args) && fp.peek() != "-o" && fp.peek() != "-or" && fp.peek() != ")" {
		if fp.peek() == "-a" || fp.peek() == "-and" {
			fp.pos++
		}
		right, err := fp.parseUnary()
		if err != nil {
			return nil, err
		}
		left = findAnd{left, right}
	}
	return left, nil
}

func (fp *findParser) parseUnary() (findExpr, error) {
	switch fp.peek() {
	case "!", "-not":
		fp.pos++
		x, err := fp.parseUnary()
		return findNot{x}, err
	case "(":
		fp.pos++
		x, err := fp.parseOr()
		if err != nil {
			return nil, err
		}
		if fp.peek() != ")" {
			return nil, fmt.Errorf("invalid expression; I was expecting to find a ')' somewhere but did not see one.")
		}
		fp.pos++
		return x, nil
	}
	return fp.parsePrimary()
}

func (fp *findParser) arg(name string) (string, error) {
	if fp.pos >= len(fp.args) {
		return "", fmt.Errorf("missing argument to `%s'", name)
	}
	v := fp.args[fp.pos]
	fp.pos++
	return v, nil
}

// compareDays implements find's +N / -N / N numeric arguments.
func compareNum(spec string) (func(v int64) bool, error) {
	cmp := byte(0)
	if spec != "" && (spec[0] == '+' || spec[0] == '-') {
		cmp, spec = spec[0], spec[1:]
	}
	n, err := strconv.ParseInt(spec, 10, 64)
	if err != nil {
		return nil, err
	}
	switch cmp {
	case '+':
		return func(v int64) bool { return v > n }, nil
	case '-':
		return func(v int64) bool { return v < n }, nil
	}
	return func(v int64) bool { return v == n }, nil
}

func (fp *findParser) parsePrimary() (findExpr, error) {
	name, err := fp.arg("expression")
	if err != nil {
		return nil, err
	}
	always := findTest(func(*finder, findEntry) bool { return true })
	switch name {
	case "-name", "-iname":
		pat, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		fold := name == "-iname"
		return findTest(func(_ *finder, e findEntry) bool {
			base := path.Base(e.path)
			if fold {
				m, _ := path.Match(strings.ToLower(pat), strings.ToLower(base))
				return m
			}
			m, _ := path.Match(pat, base)
			return m
		}), nil
	case "-path", "-wholename":
		pat, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		return findTest(func(_ *finder, e findEntry) bool { m, _ := path.Match(pat, e.path); return m }), nil
	case "-type":
		t, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		return findTest(func(_ *finder, e findEntry) bool {
			m := e.fi.Mode()
			switch t {
			case "f":
				return m.IsRegular()
			case "d":
				return m.IsDir()
			case "l":
				return m&fs.ModeSymlink != 0
			case "p":
				return m&fs.ModeNamedPipe != 0
			case "s":
				return m&fs.ModeSocket != 0
			}
			return false
		}), nil
	case "-mtime", "-mmin", "-atime", "-ctime":
		spec, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		cmp, err := compareNum(spec)
		if err != nil {
			return nil, fmt.Errorf("invalid argument `%s' to `%s'", spec, name)
		}
		unit := 24 * time.Hour
		if name == "-mmin" {
			unit = time.Minute
		}
		return findTest(func(f *finder, e findEntry) bool {
			age := f.now.Sub(e.fi.ModTime())
			return cmp(int64(age / unit))
		}), nil
	case "-size":
		spec, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		unit := int64(512)
		switch spec[len(spec)-1] {
		case 'c':
			unit, spec = 1, spec[:len(spec)-1]
		case 'k':
			unit, spec = 1024, spec[:len(spec)-1]
		case 'M':
			unit, spec = 1<<20, spec[:len(spec)-1]
		case 'G':
			unit, spec = 1<<30, spec[:len(spec)-1]
		}
		cmp, err := compareNum(spec)
		if err != nil {
			return nil, fmt.Errorf("invalid argument `%s' to `-size'", spec)
		}
		return findTest(func(_ *finder, e findEntry) bool { return cmp((e.fi.Size() + unit - 1) / unit) }), nil
	case "-newer":
		ref, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		rfi, err := fp.f.p.fs().Stat(fp.f.p.abs(ref))
		if err != nil {
			return nil, fmt.Errorf("%s: %s", ref, errText(err))
		}
		return findTest(func(_ *finder, e findEntry) bool { return e.fi.ModTime().After(rfi.ModTime()) }), nil
	case "-user", "-group":
		who, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		file := "/etc/passwd"
		if name == "-group" {
			file = "/etc/group"
		}
		ent, ok := fp.f.p.g.lookupID(file, who)
		if !ok {
			return nil, fmt.Errorf("`%s' is not the name of a known user", who)
		}
		return findTest(func(_ *finder, e findEntry) bool {
			u, g := ownerOf(e.fi)
			if name == "-group" {
				return g == ent.id
			}
			return u == ent.id
		}), nil
	case "-empty":
		return findTest(func(f *finder, e findEntry) bool {
			if e.fi.IsDir() {
				infos, err := f.p.fs().ReadDir(e.full)
				return err == nil && len(infos) == 0
			}
			return e.fi.Mode().IsRegular() && e.fi.Size() == 0
		}), nil
	case "-maxdepth", "-mindepth":
		v, err := fp.arg(name)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("Expected a positive decimal integer argument to %s, but got `%s'", name, v)
		}
		if name == "-maxdepth" {
			fp.f.maxDepth = n
		} else {
			fp.f.minDepth = n
		}
		return always, nil
	case "-depth", "-xdev", "-mount", "-follow", "-noleaf":
		if name == "-depth" {
			fp.f.depthFirst = true
		}
		return always, nil
	case "-true":
		return always, nil
	case "-false":
		return findNot{always}, nil
	case "-print", "-print0", "-ls":
		fp.hasAction = true
		end := "\n"
		if name == "-print0" {
			end = "\x00"
		}
		return findTest(func(f *finder, e findEntry) bool {
			fmt.Fprint(f.p.stdout, e.path+end)
			return true
		}), nil
	case "-delete":
		fp.hasAction = true
		fp.f.depthFirst = true
		return findTest(func(f *finder, e findEntry) bool {
			err := f.p.mayWriteDir(path.Dir(e.full))
			if err == nil {
				err = f.p.fs().Remove(e.full)
			}
			if err != nil {
				fmt.Fprintf(f.p.stderr, "find: cannot delete %s: %s\n", quoted(e.path), errText(err))
				f.failed = true
				return false
			}
			return true
		}), nil
	case "-exec", "-ok":
		fp.hasAction = true
		var argv []string
		for {
			a, err := fp.arg(name)
			if err != nil {
				return nil, fmt.Errorf("missing argument to `%s'", name)
			}
			if a == ";" || a == "+" {
				break
			}
			argv = append(argv, a)
		}
		if len(argv) == 0 {
			return nil, fmt.Errorf("missing argument to `%s'", name)
		}
		return findExec{argv}, nil
	case "-prune":
		return always, nil
	}
	if strings.HasPrefix(name, "-") {
		return nil, fmt.Errorf("invalid predicate `%s'", name)
	}
	return nil, fmt.Errorf("paths must precede expression: %s", name)
}

func findCommand(ctx context.Context, p *proc, args []string) error {
	rest := args[1:]
	var starts []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && rest[0] != "!" && rest[0] != "(" {
		starts, rest = append(starts, rest[0]), rest[1:]
	}
	if len(starts) == 0 {
		starts = []string{"."}
	}
	f := &finder{p: p, now: p.g.now(), maxDepth: -1}
	fp := &findParser{args: rest, f: f}
	var expr findExpr = findTest(func(*finder, findEntry) bool { return true })
	if len(rest) > 0 {
		var err error
		if expr, err = fp.parseOr(); err == nil && fp.pos < len(fp.args) {
			err = fmt.Errorf("invalid expression")
		}
		if err != nil {
			p.errorf("find", "%v", err)
			return exitCode(1)
		}
	}
	if !fp.hasAction {
		print := findTest(func(f *finder, e findEntry) bool { fmt.Fprintln(f.p.stdout, e.path); return true })
		expr = findAnd{expr, print}
	}
	for _, s := range starts {
		full := p.abs(s)
		fi, err := p.fs().Lstat(full)
		if err != nil {
			fmt.Fprintf(p.stderr, "find: %s: %s\n", s, errText(err))
			f.failed = true
			continue
		}
		f.walk(ctx, expr, findEntry{path: s, full: full, fi: fi}, 0)
	}
	if f.failed {
		return exitCode(1)
	}
	return nil
}

func (f *finder) walk(ctx context.Context, expr findExpr, e findEntry, depth int) {
	if ctx.Err() != nil {
		return
	}
	visit := func() {
		if depth >= f.minDepth {
			expr.eval(ctx, f, e)
		}
	}
	if !f.depthFirst {
		visit()
	}
	if e.fi.IsDir() && (f.maxDepth < 0 || depth < f.maxDepth) {
		infos, err := f.p.fs().ReadDir(e.full)
		if err != nil {
			fmt.Fprintf(f.p.stderr, "find: %s: %s\n", e.path, errText(err))
			f.failed = true
		}
		for _, c := range infos {
			f.walk(ctx, expr, findEntry{path: strings.TrimSuffix(e.path, "/") + "/" + c.Name(), full: path.Join(e.full, c.Name()), fi: c}, depth+1)
		}
	}
	if f.depthFirst {
		visit()
	}
}
