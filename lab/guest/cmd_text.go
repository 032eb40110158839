package guest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func registerTextCommands() {
	for name, c := range map[string]command{
		"wc": wcCommand, "head": headCommand, "tail": tailCommand, "grep": grepCommand,
		"egrep": grepCommand, "fgrep": grepCommand, "sed": sedCommand, "sort": sortCommand,
		"uniq": uniqCommand, "cut": cutCommand, "tee": teeCommand,
		"sha256sum": sumCommand(sha256.New), "md5sum": sumCommand(md5.New), "sha1sum": sumCommand(sha1.New),
		"tr": trCommand,
	} {
		commands[name] = c
	}
}

// inputs opens each named file (or stdin for none or "-") in turn; a file
// that cannot be opened is reported and skipped.
func (p *proc) inputs(prog string, names []string, each func(name string, r io.Reader)) (failed bool) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, n := range names {
		if n == "-" {
			each(n, p.stdin)
			continue
		}
		f, err := p.openFile(p.abs(n), os.O_RDONLY, 0)
		if err == nil {
			if fi, _ := f.Stat(); fi != nil && fi.IsDir() {
				f.Close()
				err = &os.PathError{Op: "read", Path: n, Err: errIsDir}
			}
		}
		if err != nil {
			p.pathErr(prog, n, err)
			failed = true
			continue
		}
		each(n, f)
		f.Close()
	}
	return failed
}

var errIsDir = fmt.Errorf("is a directory")

func wcCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "lwcm", longs: map[string]byte{"lines": 'l', "words": 'w', "bytes": 'c'}}.parse(p, "wc", args[1:])
	if !ok {
		return exitCode(1)
	}
	all := !o.has('l') && !o.has('w') && !o.has('c') && !o.has('m')
	var tl, tw, tc int
	n := 0
	show := func(l, w, c int, name string) {
		var parts []string
		if all || o.has('l') {
			parts = append(parts, fmt.Sprintf("%7d", l))
		}
		if all || o.has('w') {
			parts = append(parts, fmt.Sprintf("%7d", w))
		}
		if all || o.has('c') || o.has('m') {
			parts = append(parts, fmt.Sprintf("%7d", c))
		}
		line := strings.Join(parts, " ")
		if len(parts) == 1 && len(o.operands) == 0 {
			line = strings.TrimSpace(line)
		}
		if name != "-" {
			line += " " + name
		}
		fmt.Fprintln(p.stdout, line)
	}
	failed := p.inputs("wc", o.operands, func(name string, r io.Reader) {
		data, _ := io.ReadAll(r)
		l, w, c := bytes.Count(data, []byte("\n")), len(bytes.Fields(data)), len(data)
		tl, tw, tc = tl+l, tw+w, tc+c
		n++
		show(l, w, c, name)
	})
	if n > 1 {
		show(tl, tw, tc, "total")
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// fileBanners returns what head and tail print before each file: with
// several files, or with -v, a "==> name <==" line (a blank line before all
// but the first); never with -q.
func fileBanners(p *proc, o options, files int) func(name string) {
	show := (files > 1 || o.has('v')) && !o.has('q')
	first := true
	return func(name string) {
		if !show {
			return
		}
		if !first {
			fmt.Fprintln(p.stdout)
		}
		first = false
		if name == "-" {
			name = "standard input"
		}
		fmt.Fprintf(p.stdout, "==> %s <==\n", name)
	}
}

// countArg handles head/tail's "-N" shorthand.
func countArg(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			out[i] = "-n" + a[1:]
		}
	}
	return out
}

func headCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "qv", valued: "nc", longs: map[string]byte{"lines": 'n', "bytes": 'c'}}.parse(p, "head", countArg(args[1:]))
	if !ok {
		return exitCode(1)
	}
	n, err := strconv.Atoi(o.val('n', "10"))
	if err != nil {
		p.errorf("head", "%s: invalid number of lines", o.val('n', ""))
		return exitCode(1)
	}
	banner := fileBanners(p, o, len(o.operands))
	failed := p.inputs("head", o.operands, func(name string, r io.Reader) {
		banner(name)
		if c := o.val('c', ""); c != "" {
			nb, _ := strconv.ParseInt(c, 10, 64)
			io.CopyN(p.stdout, r, nb)
			return
		}
		br := bufio.NewReader(r)
		for i := 0; i < n; i++ {
			line, err := br.ReadString('\n')
			io.WriteString(p.stdout, line)
			if err != nil {
				break
			}
		}
	})
	if failed {
		return exitCode(1)
	}
	return nil
}

func tailCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "qvf", valued: "nc", longs: map[string]byte{"lines": 'n', "bytes": 'c'}}.parse(p, "tail", countArg(args[1:]))
	if !ok {
		return exitCode(1)
	}
	spec := o.val('n', "10")
	fromStart := strings.HasPrefix(spec, "+")
	n, err := strconv.Atoi(strings.TrimPrefix(spec, "+"))
	if err != nil {
		p.errorf("tail", "%s: invalid number of lines", spec)
		return exitCode(1)
	}
	banner := fileBanners(p, o, len(o.operands))
	failed := p.inputs("tail", o.operands, func(name string, r io.Reader) {
		banner(name)
		data, _ := io.ReadAll(r)
		if c := o.val('c', ""); c != "" {
			nb, _ := strconv.Atoi(c)
			p.stdout.Write(data[max(0, len(data)-nb):])
			return
		}
		lines := strings.SplitAfter(string(data), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		start := max(0, len(lines)-n)
		if fromStart {
			start = min(len(lines), max(0, n-1))
		}
		io.WriteString(p.stdout, strings.Join(lines[start:], ""))
	})
	if failed {
		return exitCode(1)
	}
	return nil
}

// breToERE converts a POSIX basic regular expression (grep, sed) into
// Go's syntax: in a BRE, \( \) \{ \} \+ \? \| are operators and the bare
// characters are literals.
func breToERE(bre string) string {
	var b strings.Builder
	inBracket := false
	for i := 0; i < len(bre); i++ {
		c := bre[i]
		if inBracket {
			b.WriteByte(c)
			if c == ']' {
				inBracket = false
			}
			continue
		}
		switch c {
		case '\\':
			if i+1 < len(bre) {
				i++
				switch n := bre[i]; n {
				case '(', ')', '{', '}', '+', '?', '|':
					b.WriteByte(n)
				default:
					b.WriteByte('\\')
					b.WriteByte(n)
				}
			} else {
				b.WriteString(`\\`)
			}
		case '(', ')', '{', '}', '+', '?', '|':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '*':
			if i == 0 || bre[i-1] == '^' && i == 1 {
				b.WriteString(`\*`)
			} else {
				b.WriteByte('*')
			}
		case '[':
			inBracket = true
			b.WriteByte(c)
			if i+1 < len(bre) && bre[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(bre) && bre[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func grepCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "qEvciFnlLhHwxsroR", valued: "e", longs: map[string]byte{"quiet": 'q', "silent": 'q', "count": 'c', "invert-match": 'v', "ignore-case": 'i', "regexp": 'e', "extended-regexp": 'E', "fixed-strings": 'F', "recursive": 'r'}}.parse(p, args[0], args[1:])
	if !ok {
		return exitCode(2)
	}
	patterns := o.set['e']
	files := o.operands
	if len(patterns) == 0 {
		if len(files) == 0 {
			fmt.Fprintf(p.stderr, "Usage: grep [OPTION]... PATTERN [FILE]...\nTry `grep --help' for more information.\n")
			return exitCode(2)
		}
		patterns, files = strings.Split(files[0], "\n"), files[1:]
	}
	extended := o.has('E') || args[0] == "egrep"
	fixed := o.has('F') || args[0] == "fgrep"
	var res []*regexp.Regexp
	for _, pat := range patterns {
		expr := pat
		switch {
		case fixed:
			expr = regexp.QuoteMeta(pat)
		case !extended:
			expr = breToERE(pat)
		}
		if o.has('w') {
			expr = `(?:^|\W)(?:` + expr + `)(?:\W|$)`
		}
		if o.has('x') {
			expr = `^(?:` + expr + `)$`
		}
		if o.has('i') {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			p.errorf("grep", "Invalid regular expression")
			return exitCode(2)
		}
		res = append(res, re)
	}
	if (o.has('r') || o.has('R')) && len(files) > 0 {
		var expanded []string
		for _, f := range files {
			expanded = append(expanded, p.walkFiles(f)...)
		}
		files = expanded
	}
	showName := (len(files) > 1 || o.has('r') || o.has('R')) && !o.has('h') || o.has('H')
	matched := false
	failed := false
	inputs := func(name string, r io.Reader) {
		count := 0
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for ln := 1; sc.Scan(); ln++ {
			line := sc.Text()
			hit := false
			for _, re := range res {
				if re.MatchString(line) {
					hit = true
					break
				}
			}
			if hit == o.has('v') {
				continue
			}
			matched = true
			count++
			if o.has('q') {
				return
			}
			if o.has('l') || o.has('c') || o.has('L') {
				continue
			}
			prefix := ""
			if showName {
				prefix = name + ":"
			}
			if o.has('n') {
				prefix += strconv.Itoa(ln) + ":"
			}
			if o.has('o') && !o.has('v') {
				for _, re := range res {
					for _, m := range re.FindAllString(line, -1) {
						fmt.Fprintln(p.stdout, prefix+m)
					}
				}
				continue
			}
			fmt.Fprintln(p.stdout, prefix+line)
		}
		switch {
		case o.has('c'):
			if showName {
				fmt.Fprintf(p.stdout, "%s:%d\n", name, count)
			} else {
				fmt.Fprintln(p.stdout, count)
			}
		case o.has('l') && count > 0:
			fmt.Fprintln(p.stdout, name)
		case o.has('L') && count == 0:
			fmt.Fprintln(p.stdout, name)
		}
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, f := range files {
		if o.has('q') && matched {
			break
		}
		if f == "-" {
			inputs("(standard input)", p.stdin)
			continue
		}
		quiet := proc(*p)
		if o.has('s') {
			quiet.stderr = io.Discard
		}
		if quiet.inputs("grep", []string{f}, inputs) {
			failed = true
		}
	}
	switch {
	case matched && (o.has('q') || !failed):
		return nil
	case failed:
		return exitCode(2)
	case matched:
		return nil
	}
	return exitCode(1)
}

// walkFiles lists the regular files under name, for grep -r.
func (p *proc) walkFiles(name string) []string {
	fi, err := p.fs().Stat(p.abs(name))
	if err != nil || !fi.IsDir() {
		return []string{name}
	}
	var out []string
	infos, _ := p.fs().ReadDir(p.abs(name))
	for _, c := range infos {
		child := strings.TrimSuffix(name, "/") + "/" + c.Name()
		if c.IsDir() {
			out = append(out, p.walkFiles(child)...)
		} else if c.Mode().IsRegular() {
			out = append(out, child)
		}
	}
	return out
}

func sortCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "rnuf", valued: "kt", longs: map[string]byte{"reverse": 'r', "numeric-sort": 'n', "unique": 'u'}}.parse(p, "sort", args[1:])
	if !ok {
		return exitCode(2)
	}
	var lines []string
	failed := p.inputs("sort", o.operands, func(_ string, r io.Reader) {
		data, _ := io.ReadAll(r)
		lines = append(lines, splitLines(string(data))...)
	})
	key := func(l string) string { return l }
	if k := o.val('k', ""); k != "" {
		field, _ := strconv.Atoi(strings.SplitN(strings.SplitN(k, ",", 2)[0], ".", 2)[0])
		sep := o.val('t', "")
		key = func(l string) string {
			var f []string
			if sep == "" {
				f = strings.Fields(l)
			} else {
				f = strings.Split(l, sep)
			}
			if field >= 1 && field <= len(f) {
				return strings.Join(f[field-1:], " ")
			}
			return ""
		}
	}
	cmp := func(a, b string) int {
		ka, kb := key(a), key(b)
		if o.has('f') {
			ka, kb = strings.ToLower(ka), strings.ToLower(kb)
		}
		if o.has('n') {
			na, _ := strconv.ParseFloat(leadingNumber(ka), 64)
			nb, _ := strconv.ParseFloat(leadingNumber(kb), 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(ka, kb)
	}
	slices.SortStableFunc(lines, cmp)
	if o.has('r') {
		slices.Reverse(lines)
	}
	if o.has('u') {
		lines = slices.CompactFunc(lines, func(a, b string) bool { return cmp(a, b) == 0 })
	}
	for _, l := range lines {
		fmt.Fprintln(p.stdout, l)
	}
	if failed {
		return exitCode(2)
	}
	return nil
}

func leadingNumber(s string) string {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || end == 0 && s[end] == '-') {
		end++
	}
	return s[:end]
}

func uniqCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "cdu"}.parse(p, "uniq", args[1:])
	if !ok {
		return exitCode(1)
	}
	var lines []string
	failed := p.inputs("uniq", o.operands[:min(1, len(o.operands))], func(_ string, r io.Reader) {
		data, _ := io.ReadAll(r)
		lines = splitLines(string(data))
	})
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		n := j - i
		if (!o.has('d') || n > 1) && (!o.has('u') || n == 1) {
			if o.has('c') {
				fmt.Fprintf(p.stdout, "%7d %s\n", n, lines[i])
			} else {
				fmt.Fprintln(p.stdout, lines[i])
			}
		}
		i = j
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// parseRanges parses cut's LIST ("1,3-5,7-").
func parseRanges(list string) (func(int) bool, error) {
	type rng struct{ lo, hi int }
	var rs []rng
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		r := rng{1, 1 << 30}
		var err error
		if lo != "" {
			if r.lo, err = strconv.Atoi(lo); err != nil {
				return nil, err
			}
		}
		if !isRange {
			r.hi = r.lo
		} else if hi != "" {
			if r.hi, err = strconv.Atoi(hi); err != nil {
				return nil, err
			}
		}
		rs = append(rs, r)
	}
	return func(i int) bool {
		for _, r := range rs {
			if i >= r.lo && i <= r.hi {
				return true
			}
		}
		return false
	}, nil
}

func cutCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "s", valued: "dfcb", longs: map[string]byte{"delimiter": 'd', "fields": 'f', "characters": 'c'}}.parse(p, "cut", args[1:])
	if !ok {
		return exitCode(1)
	}
	list := o.val('f', "")
	byChar := list == ""
	if byChar {
		list = o.val('c', o.val('b', ""))
	}
	if list == "" {
		fmt.Fprintln(p.stderr, "cut: you must specify a list of bytes, characters, or fields\nTry `cut --help' for more information.")
		return exitCode(1)
	}
	in, err := parseRanges(list)
	if err != nil {
		fmt.Fprintln(p.stderr, "cut: invalid byte or field list")
		return exitCode(1)
	}
	delim := o.val('d', "\t")
	if len(delim) != 1 {
		fmt.Fprintln(p.stderr, "cut: the delimiter must be a single character")
		return exitCode(1)
	}
	failed := p.inputs("cut", o.operands, func(_ string, r io.Reader) {
		data, _ := io.ReadAll(r)
		for _, line := range splitLines(string(data)) {
			var out []string
			if byChar {
				var b strings.Builder
				for i, c := range []rune(line) {
					if in(i + 1) {
						b.WriteRune(c)
					}
				}
				fmt.Fprintln(p.stdout, b.String())
				continue
			}
			fields := strings.Split(line, delim)
			if len(fields) == 1 {
				if !o.has('s') {
					fmt.Fprintln(p.stdout, line)
				}
				continue
			}
			for i, f := range fields {
				if in(i + 1) {
					out = append(out, f)
				}
			}
			fmt.Fprintln(p.stdout, strings.Join(out, delim))
		}
	})
	if failed {
		return exitCode(1)
	}
	return nil
}

func teeCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "ai", longs: map[string]byte{"append": 'a'}}.parse(p, "tee", args[1:])
	if !ok {
		return exitCode(1)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.has('a') {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	writers := []io.Writer{p.stdout}
	code := 0
	for _, n := range o.operands {
		f, err := p.openFile(p.abs(n), flag, 0o666)
		if err != nil {
			p.pathErr("tee", n, err)
			code = 1
			continue
		}
		defer f.Close()
		writers = append(writers, f)
	}
	if _, err := io.Copy(io.MultiWriter(writers...), p.stdin); err != nil {
		return exitCode(1)
	}
	return exitCode(code)
}

func sumCommand(newHash func() hash.Hash) command {
	return func(ctx context.Context, p *proc, args []string) error {
		prog := args[0]
		o, ok := optSpec{flags: "cbtw", longs: map[string]byte{"check": 'c', "status": 's'}}.parse(p, prog, args[1:])
		if !ok {
			return exitCode(1)
		}
		sum := func(r io.Reader) string {
			h := newHash()
			io.Copy(h, r)
			return hex.EncodeToString(h.Sum(nil))
		}
		if o.has('c') {
			bad := 0
			failed := p.inputs(prog, o.operands, func(_ string, r io.Reader) {
				data, _ := io.ReadAll(r)
				for _, line := range splitLines(string(data)) {
					want, name, ok := strings.Cut(line, "  ")
					if !ok {
						want, name, _ = strings.Cut(line, " *")
					}
					f, err := p.openFile(p.abs(name), os.O_RDONLY, 0)
					if err != nil {
						p.pathErr(prog, name, err)
						fmt.Fprintf(p.stdout, "%s: FAILED open or read\n", name)
						bad++
						continue
					}
					got := sum(f)
					f.Close()
					if got == want {
						fmt.Fprintf(p.stdout, "%s: OK\n", name)
					} else {
						fmt.Fprintf(p.stdout, "%s: FAILED\n", name)
						bad++
					}
				}
			})
			if bad > 0 {
				fmt.Fprintf(p.stderr, "%s: WARNING: %d of computed checksums did NOT match\n", prog, bad)
			}
			if bad > 0 || failed {
				return exitCode(1)
			}
			return nil
		}
		failed := p.inputs(prog, o.operands, func(name string, r io.Reader) {
			fmt.Fprintf(p.stdout, "%s  %s\n", sum(r), name)
		})
		if failed {
			return exitCode(1)
		}
		return nil
	}
}

func trCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "ds"}.parse(p, "tr", args[1:])
	if !ok || len(o.operands) == 0 {
		return exitCode(1)
	}
	expand := func(s string) []rune {
		var out []rune
		r := []rune(strings.NewReplacer(`\n`, "\n", `\t`, "\t", "[:upper:]", "A-Z", "[:lower:]", "a-z", "[:digit:]", "0-9").Replace(s))
		for i := 0; i < len(r); i++ {
			if i+2 < len(r) && r[i+1] == '-' {
				for c := r[i]; c <= r[i+2]; c++ {
					out = append(out, c)
				}
				i += 2
				continue
			}
			out = append(out, r[i])
		}
		return out
	}
	from := expand(o.operands[0])
	var to []rune
	if len(o.operands) > 1 {
		to = expand(o.operands[1])
	}
	data, _ := io.ReadAll(p.stdin)
	var b strings.Builder
	var last rune = -1
	for _, c := range string(data) {
		i := slices.Index(from, c)
		switch {
		case i >= 0 && o.has('d'):
			continue
		case i >= 0 && len(to) > 0:
			c = to[min(i, len(to)-1)]
		}
		if o.has('s') && c == last && slices.Contains(append(from, to...), c) {
			continue
		}
		last = c
		b.WriteRune(c)
	}
	io.WriteString(p.stdout, b.String())
	return nil
}
